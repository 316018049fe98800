package query

import "github.com/sview-project/sview/internal/derived"

// A live query (docs/live.md) is a stream of new incidents, not a QueryData query: the plugin's
// streaming handlers take it from a Grafana Live channel path. It has the incident filters of
// a stats query and the dashboard's ad-hoc filters; its rate is part of the channel path.
const TypeLive = "live"

// liveFilters are the filters and exclusions of a live query: those of the incidents table.
var liveFilters = FiltersOf(derived.Incidents)

// normalizeLive drops the fields of other types.
func (q Query) normalizeLive() Query {
	return Query{QueryType: q.QueryType, Filters: q.Filters, Exclude: q.Exclude}
}

func (q Query) validateLive() error {
	if err := q.Filters.validate("filters", liveFilters, "a live stream (table incidents) cannot be filtered by"); err != nil {
		return err
	}
	return q.Exclude.validate("exclude", liveFilters, "a live stream (table incidents) cannot exclude by")
}
