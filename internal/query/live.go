package query

import (
	"cmp"
	"slices"

	"github.com/sview-project/sview/internal/derived"
)

// A live query (docs/live.md) is a stream of new incidents, not a QueryData query: the plugin's
// streaming handlers take it from a Grafana Live channel path. It has the incident filters of
// a stats query and the dashboard's ad-hoc filters; format table (default) streams the events,
// timeseries the incidents per second. Its rate is part of the channel path.
const TypeLive = "live"

// LiveFormats are the formats of a live query, the default first.
var LiveFormats = []string{FormatTable, FormatTimeSeries}

// liveFilters are the filters and exclusions of a live query: those of the incidents table.
var liveFilters = FiltersOf(derived.Incidents)

// normalizeLive drops the fields of other types.
func (q Query) normalizeLive() Query {
	return Query{QueryType: q.QueryType, Format: cmp.Or(q.Format, FormatTable), Filters: q.Filters, Exclude: q.Exclude}
}

func (q Query) validateLive() error {
	if !slices.Contains(LiveFormats, q.Format) {
		return invalid("format", q.Format, LiveFormats, "a live query streams the events (table) or their count per second (timeseries)")
	}
	if err := q.Filters.validate("filters", liveFilters, "a live stream (table incidents) cannot be filtered by"); err != nil {
		return err
	}
	return q.Exclude.validate("exclude", liveFilters, "a live stream (table incidents) cannot exclude by")
}
