package query

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/sview-project/sview/internal/trend"
)

// A trend query (docs/trends.md) ranks every key of one grouping by how its metric changed
// between the current window (the period, or the dashboard range) and the previous one:
// metric, groupBy (one key), filters and exclude as a stats query; direction rising (default)
// or falling; limit the top-N (default DefaultTableLimit); format table (every column) or
// numeric, for alert rules: the key's columns and one number, measure (default slope_per_day).
const (
	TypeTrend     = "trend"
	FormatNumeric = "numeric"
)

// TrendFormats are the formats of a trend query, the default first.
var TrendFormats = []string{FormatTable, FormatNumeric}

// normalizeTrend fills a trend query's defaults and drops the fields of other types.
func (q Query) normalizeTrend() Query {
	q = Query{QueryType: q.QueryType, Metric: q.Metric, GroupBy: q.GroupBy, Format: cmp.Or(q.Format, FormatTable),
		Period: q.Period, Limit: cmp.Or(q.Limit, DefaultTableLimit), Filters: q.Filters, Exclude: q.Exclude,
		Direction: cmp.Or(q.Direction, trend.Rising), Measure: q.Measure}
	if q.Format == FormatNumeric {
		q.Measure = cmp.Or(q.Measure, trend.SlopePerDay)
	}
	return q
}

func (q Query) validateTrend() error {
	if q.Metric == "" {
		return missing("metric", "a trend query needs a metric (allowed: "+strings.Join(Metrics, ", ")+")")
	}
	if !slices.Contains(Metrics, q.Metric) {
		return invalid("metric", q.Metric, Metrics, "unknown metric")
	}
	table := q.Table()
	groupBys := GroupBysOf(table)[1:] // a trend ranks keys: it needs one
	switch {
	case len(q.GroupBy) == 0:
		return missing("groupBy", "a trend query ranks the keys of one grouping (allowed: "+strings.Join(groupBys, ", ")+")")
	case len(q.GroupBy) > 1:
		return unsupported("groupBy", q.GroupBy.String(), groupBys, "a trend ranks the keys of one grouping")
	case !slices.Contains(groupBys, q.GroupBy[0]):
		return unsupported("groupBy", q.GroupBy[0], groupBys, "metric "+q.Metric+" (table "+string(table)+") has no such column")
	}
	if !slices.Contains(TrendFormats, q.Format) {
		return invalid("format", q.Format, TrendFormats, "a trend is a table, or numeric for alert rules")
	}
	if q.Format == FormatNumeric && !slices.Contains(trend.Measures, q.Measure) {
		return invalid("measure", q.Measure, trend.Measures, "the number a numeric trend answers per key")
	}
	if q.Format != FormatNumeric && q.Measure != "" {
		return unsupported("measure", q.Measure, nil, "only a numeric trend answers one measure; a table has them all")
	}
	if !slices.Contains(trend.Directions, q.Direction) {
		return invalid("direction", q.Direction, trend.Directions, "unknown direction")
	}
	if err := validPeriod(q.Period); err != nil {
		return err
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		return invalid("limit", strconv.Itoa(q.Limit), nil, "must be between 1 and "+strconv.Itoa(MaxLimit)+" (0 or absent for the default)")
	}
	what := "metric " + q.Metric + " (table " + string(table) + ")"
	if err := q.Filters.validate("filters", FiltersOf(table), what+" cannot be filtered by"); err != nil {
		return err
	}
	return q.Exclude.validate("exclude", FiltersOf(table), what+" cannot exclude by")
}

// Grouped is the stats query a trend reads its keys from: the same metric, grouping, filters,
// exclusions and scope over the dashboard range it is given, in format with top-N limit (0:
// every key of a table).
func (q Query) Grouped(format string, limit int) Query {
	return Query{QueryType: TypeStats, Metric: q.Metric, GroupBy: q.GroupBy, Format: format, Limit: limit,
		Filters: q.Filters, Exclude: q.Exclude, Restrict: q.Restrict}
}
