package engine

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
)

// statement is SQL with its positional parameters.
type statement struct {
	sql  string
	args []any
}

func (s *statement) param(v any) string {
	s.args = append(s.args, v)
	return fmt.Sprintf("$%d", len(s.args))
}

// fill puts vars into the {name} placeholders of a statement template. Values are never read
// as templates. A placeholder without a value stays as it is, so the statement fails at the
// database rather than reading something else; TestStatementsFillEveryPlaceholder builds every
// statement and finds none left.
func fill(template string, vars map[string]string) string {
	pairs := make([]string, 0, 2*len(vars))
	for name, v := range vars {
		pairs = append(pairs, "{"+name+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(template)
}

// conditions is the WHERE clause shared by every statement of one query: the time span, each
// filter and each exclusion, all values as parameters.
func (s *statement) conditions(q query.Query, from, until time.Time, d dimension) string {
	c := []string{"time >= " + s.param(from), "time < " + s.param(until)}
	for _, m := range s.matches(q.Filters) {
		c = append(c, m.cond)
	}
	c = append(c, s.exclusions(q.Exclude)...)
	if q.Restrict != nil {
		c = append(c, s.restriction(*q.Restrict, derived.RawOf(q.Table()).Covers("identity_id")))
	}
	c = append(c, d.keeps()...)
	return strings.Join(c, " AND ")
}

// Where is the WHERE clause of a raw read of q over [from, until): its filters, exclusions and
// restriction, as every statement of the engine applies them, with the parameters it numbers
// from $1. Raw events (internal/answer) read rows by it.
func Where(q query.Query, from, until time.Time) (string, []any) {
	var s statement
	where := s.conditions(q, from, until, dimension{})
	return where, s.args
}

// match is one set filter: the column it compares and the condition a row matching it meets
// (never NULL where the column is not).
type match struct {
	col, cond string
}

// matches lists the conditions of the set filters of f, in the order of the model; their
// columns are those columnsOf lists.
func (s *statement) matches(f query.Filters) []match {
	var m []match
	if len(f.Probe) > 0 {
		m = append(m, match{"identity_id", "identity_id = ANY(" + s.param(f.Probe) + "::bigint[])"})
	}
	if len(f.ASN) > 0 {
		m = append(m, match{"asn", "asn = ANY(" + s.param(f.ASN) + "::bigint[])"})
	}
	if len(f.Country) > 0 {
		m = append(m, match{"country", "country = ANY(" + s.param(f.Country) + "::text[])"})
	}
	// Enums compare as text so no enum type has to be registered with the driver.
	if len(f.Trap) > 0 {
		m = append(m, match{"trap", "trap::text = ANY(" + s.param(f.Trap) + "::text[])"})
	}
	if len(f.Action) > 0 {
		m = append(m, match{"action", "action::text = ANY(" + s.param(f.Action) + "::text[])"})
	}
	if ps := f.IPPrefixes(); len(ps) > 0 {
		m = append(m, match{"ip", s.ipMatch(ps)})
	}
	if len(f.Password) > 0 {
		m = append(m, match{"password", "password = ANY(" + s.param(f.Password) + "::text[])"})
	}
	if len(f.Username) > 0 {
		m = append(m, match{"username", "username = ANY(" + s.param(f.Username) + "::text[])"})
	}
	if len(f.Port) > 0 {
		m = append(m, match{"port", "port = ANY(" + s.param(f.Port) + "::bigint[])"})
	}
	for _, l := range query.Labels {
		if v := l.Values(f); len(v) > 0 {
			m = append(m, match{l.Key, l.Key + " = ANY(" + s.param(v) + "::text[])"})
		}
	}
	return m
}

// ipMatch matches ip against addresses and prefixes: equality where all are addresses (a
// b-tree index serves it), one prefix as a constant (the planner turns <<= into an index
// range), any of several otherwise.
func (s *statement) ipMatch(ps []netip.Prefix) string {
	switch {
	case !slices.ContainsFunc(ps, func(p netip.Prefix) bool { return !p.IsSingleIP() }):
		if len(ps) == 1 {
			return "ip = " + s.param(ps[0].Addr().String()) + "::inet"
		}
		return "ip = ANY(" + s.param(ps) + "::inet[])"
	case len(ps) == 1:
		return "ip <<= " + s.param(ps[0].String()) + "::inet"
	}
	return "ip <<= ANY(" + s.param(ps) + "::inet[])"
}

// exclusions are the conditions leaving out the rows f matches: a row whose column is NULL
// matches no value, so it is kept.
func (s *statement) exclusions(f query.Filters) []string {
	var c []string
	for _, m := range s.matches(f) {
		c = append(c, "("+m.col+" IS NULL OR NOT ("+m.cond+"))")
	}
	return c
}

// restriction matches the rows of a scope: any of its probes, ASNs or prefixes; none is false.
// Rows of a table without probes (feed events) match by ASN and prefix only.
func (s *statement) restriction(r query.Restriction, probes bool) string {
	var anyOf []string
	if len(r.Probes) > 0 && probes {
		anyOf = append(anyOf, "identity_id = ANY("+s.param(r.Probes)+"::bigint[])")
	}
	if len(r.ASNs) > 0 {
		anyOf = append(anyOf, "asn = ANY("+s.param(r.ASNs)+"::bigint[])")
	}
	if len(r.Prefixes) > 0 {
		anyOf = append(anyOf, "ip <<= ANY("+s.param(r.Prefixes)+"::inet[])")
	}
	if len(anyOf) == 0 {
		return "false"
	}
	return "(" + strings.Join(anyOf, " OR ") + ")"
}

// aggregation is what a grouped read selects from (FROM item and WHERE), the bucket
// expression to select and the measure.
type aggregation struct {
	from, bucket, measure string
}

// aggregate reads a metric from the rows of from that match where (and the bucket expression,
// if any): summed raw_count, or distinct attacking addresses.
// count(DISTINCT ip) sorts each group; a count over a SELECT DISTINCT subquery is 2–4× faster
// when its groups fit in work_mem, but PostgreSQL 15's hash aggregate spills so badly beyond
// that (a year of daily (bucket, ip) at a million incidents a day: over 90 s instead of 5.5 s
// at the default 4 MB) that the sort stays. Year-long attackers read the sightings instead.
func aggregate(metric, from, where, bucket string) aggregation {
	m := "coalesce(sum(raw_count), 0)::bigint"
	if metric == "attackers" {
		m = "count(DISTINCT ip)"
	}
	return aggregation{from: from + " WHERE " + where, bucket: bucket, measure: m}
}

// seriesSQL reads the points of a time series. Without grouping it returns (bucket, value);
// grouped, the top limit keys over the whole span are ranked first (ties by key, so the choice
// is deterministic) and it returns (rank, labels…, bucket, value) for those keys only.
func seriesSQL(q query.Query, w period.Window, src source) statement {
	var s statement
	from := s.from(src)
	d := dimensionOf(q.Table(), q.GroupBy)
	where := s.conditions(q, w.From, w.Until, d)
	bucket := "date_bin(" + s.param(w.Bucket) + "::interval, time, " + s.param(w.From) + "::timestamptz)"
	if len(q.GroupBy) == 0 {
		a := aggregate(q.Metric, from, where, bucket)
		s.sql = fill("SELECT {bucket} AS bucket, {measure} AS value FROM {from} GROUP BY 1 ORDER BY 1",
			map[string]string{"bucket": a.bucket, "measure": a.measure, "from": a.from})
		return s
	}
	cols := strings.Join(d.cols, ", ")
	keys, join := make([]string, len(d.cols)), make([]string, len(d.cols))
	for i, c := range d.cols {
		join[i] = "k" + strconv.Itoa(i)
		keys[i] = c + " AS " + join[i]
	}
	labels, topLabels := make([]string, len(d.labels)), make([]string, len(d.labels))
	for i, l := range d.labels {
		labels[i] = l.text + " AS l" + strconv.Itoa(i)
		topLabels[i] = "top.l" + strconv.Itoa(i)
	}
	limit := s.param(q.Limit)
	top := aggregate(q.Metric, from, where, "")
	points := aggregate(q.Metric, from, where+" AND ("+cols+") IN (SELECT "+strings.Join(join, ", ")+" FROM top)", bucket)
	s.sql = fill(`WITH top AS (
	SELECT {keys}, {labels}, row_number() OVER (ORDER BY {measure} DESC, {cols}) AS rank
	FROM {top}
	GROUP BY {cols}
	ORDER BY rank
	LIMIT {limit}
), points AS (
	SELECT {bucket} AS bucket, {keys}, {measure} AS value
	FROM {points}
	GROUP BY 1, {cols}
)
SELECT top.rank, {topLabels}, points.bucket, points.value
FROM top LEFT JOIN points USING ({join})
ORDER BY top.rank, points.bucket`, map[string]string{
		"keys": strings.Join(keys, ", "), "labels": strings.Join(labels, ", "), "measure": top.measure, "cols": cols,
		"top": top.from, "limit": limit, "bucket": points.bucket, "points": points.from,
		"topLabels": strings.Join(topLabels, ", "), "join": strings.Join(join, ", "),
	})
	return s
}

// tableSQL reads the ranked rows of a table or map: (labels…, value), largest first; without
// grouping one row holding the total.
func tableSQL(q query.Query, w period.Window, src source, rowCap int) statement {
	var s statement
	from := s.from(src)
	d := dimensionOf(q.Table(), q.GroupBy)
	where := s.conditions(q, w.From, w.Until, d)
	a := aggregate(q.Metric, from, where, "")
	if len(q.GroupBy) == 0 {
		s.sql = "SELECT " + a.measure + " AS value FROM " + a.from
		return s
	}
	texts := make([]string, len(d.labels))
	for i, l := range d.labels {
		texts[i] = l.text
	}
	limit := s.param(rowLimit(q, rowCap))
	s.sql = fill("SELECT {labels}, {measure} AS value FROM {from} GROUP BY {cols} ORDER BY value DESC, {cols} LIMIT {limit}", map[string]string{
		"labels": strings.Join(texts, ", "), "measure": a.measure, "from": a.from, "cols": strings.Join(d.cols, ", "), "limit": limit,
	})
	return s
}

// rowLimit is how many rows a table or map reads: its limit, or every key for limit 0, never
// more than rowCap, which bounds the read so an oversized answer is detected without fetching
// it whole.
func rowLimit(q query.Query, rowCap int) int {
	if q.Limit > 0 {
		return min(q.Limit, rowCap)
	}
	return rowCap
}
