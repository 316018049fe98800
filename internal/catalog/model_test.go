package catalog_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/api"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/trend"
)

// TestQueryModelGolden writes the closed lists of the query model as the backend applies them
// to testdata/query-model.golden.json, which the plugin's frontend imports (plugin/src/catalog.ts)
// instead of keeping its own copy. What a metric may be grouped or filtered by, what the greylist
// may be filtered by and the default limits are found by asking Parse, so the golden follows
// the rules Parse applies rather than one helper's list.
func TestQueryModelGolden(t *testing.T) {
	type metric struct {
		Name    string   `json:"name"`
		Table   string   `json:"table"`
		GroupBy []string `json:"groupBy"`
		Filters []string `json:"filters"`
		// Exclude are the keys under exclude the metric takes.
		Exclude []string `json:"exclude"`
	}
	type per struct {
		Name          string `json:"name"`
		Label         string `json:"label"`
		RangeSeconds  int64  `json:"rangeSeconds"`
		BucketSeconds int64  `json:"bucketSeconds"`
	}
	type model struct {
		// Keys are the top-level keys Parse reads; Parse ignores the Grafana ones and refuses any other.
		Keys struct {
			Model   []string `json:"model"`
			Grafana []string `json:"grafana"`
		} `json:"keys"`
		QueryTypes []string `json:"queryTypes"`
		Metrics    []metric `json:"metrics"`
		GroupBy    []string `json:"groupBy"`
		// MaxGroupBy is how many keys one query may group by (groupBy is a list of them).
		MaxGroupBy int      `json:"maxGroupBy"`
		Formats    []string `json:"formats"`
		Periods    []per    `json:"periods"`
		// Filters are the keys under "filters": each a list (any of several values).
		Filters struct {
			List []string `json:"list"`
			// Labels are the list filters of free text: their values may hold commas.
			Labels        []string `json:"labels"`
			MaxLabelBytes int      `json:"maxLabelBytes"`
		} `json:"filters"`
		// Variables: the kinds of variables/{kind} listed only by volume within a time range.
		Variables struct {
			Ranked []string `json:"ranked"`
		} `json:"variables"`
		// DefaultLimit is the top-N a grouped stats query of each format gets without a limit (0 = all).
		DefaultLimit map[string]int `json:"defaultLimit"`
		MaxLimit     int            `json:"maxLimit"`
		Greylist     struct {
			Filters []string `json:"filters"`
			Exclude []string `json:"exclude"`
		} `json:"greylist"`
		// Annotations are the kinds of an annotations query, with the filters each reads.
		Annotations []struct {
			Name    string   `json:"name"`
			Filters []string `json:"filters"`
		} `json:"annotations"`
		// Probes are the filters of a probes query.
		Probes struct {
			Filters []string `json:"filters"`
		} `json:"probes"`
		// Trend: the formats, directions and measures of a trend query (defaults first) and its
		// default limit; its metrics, groupings and filters are those of stats, less "" (a
		// trend ranks the keys of one grouping).
		Trend struct {
			Formats      []string `json:"formats"`
			Directions   []string `json:"directions"`
			Measures     []string `json:"measures"`
			DefaultLimit int      `json:"defaultLimit"`
		} `json:"trend"`
		// Events: the kinds of an events query with their raw table and filters (exclude takes
		// the same keys), its default and largest page.
		Events struct {
			Kinds []struct {
				Name    string   `json:"name"`
				Table   string   `json:"table"`
				Filters []string `json:"filters"`
			} `json:"kinds"`
			DefaultLimit int `json:"defaultLimit"`
			MaxLimit     int `json:"maxLimit"`
		} `json:"events"`
	}

	// a valid value of each filter, so only the filter's name decides whether Parse accepts it
	sample := map[string]any{
		"probe": []int{1}, "asn": []int{1}, "country": []string{"CZ"}, "trap": []string{"fwlogs"},
		"action": []string{"connect"}, "ip": []string{"192.0.2.1"}, "password": []string{"123456"}, "username": []string{"root"},
		"port": []int{22}, "tag": []string{"ssh"}, "taxonomy": []string{"information-gathering"}, "type": []string{"scanner"},
		"identifier": []string{"ssh"}, "feed": []string{"Drone"}, "provider": []string{"Shadowserver"}, "command": []string{"uname -a"},
	}
	parse := func(in map[string]any) (query.Query, error) {
		b, err := json.Marshal(in)
		require.NoError(t, err)
		return query.Parse(b)
	}
	accepts := func(in map[string]any) bool {
		_, err := parse(in)
		return err == nil
	}

	var m model
	f := reflect.TypeFor[query.Filters]()
	var filterKeys []string
	for i := range f.NumField() {
		name, _, _ := strings.Cut(f.Field(i).Tag.Get("json"), ",")
		require.Contains(t, sample, name, "a sample value for the new filter %s", name)
		filterKeys = append(filterKeys, name)
		require.Equal(t, reflect.Slice, f.Field(i).Type.Kind(), "filter %s is a list", name)
		m.Filters.List = append(m.Filters.List, name)
	}
	for _, l := range query.Labels {
		require.Contains(t, m.Filters.List, l.Key, "a label filter is a list")
		m.Filters.Labels = append(m.Filters.Labels, l.Key)
	}
	m.Filters.MaxLabelBytes = query.MaxLabelBytes
	m.Variables.Ranked = api.OnlyRanked
	m.QueryTypes = query.QueryTypes
	m.GroupBy = query.GroupBys
	m.Formats = query.Formats
	for _, name := range query.Metrics {
		mm := metric{Name: name, Table: string(query.Table(name)), GroupBy: []string{}, Filters: []string{}, Exclude: []string{}}
		for _, g := range query.GroupBys {
			if accepts(map[string]any{"metric": name, "groupBy": g}) {
				mm.GroupBy = append(mm.GroupBy, g)
			}
		}
		for _, k := range filterKeys {
			if accepts(map[string]any{"metric": name, "filters": map[string]any{k: sample[k]}}) {
				mm.Filters = append(mm.Filters, k)
			}
			if accepts(map[string]any{"metric": name, "exclude": map[string]any{k: sample[k]}}) {
				mm.Exclude = append(mm.Exclude, k)
			}
		}
		m.Metrics = append(m.Metrics, mm)
	}
	for _, p := range period.All {
		m.Periods = append(m.Periods, per{Name: p.Name, Label: p.Label,
			RangeSeconds: int64(p.Range.Seconds()), BucketSeconds: int64(p.Bucket.Seconds())})
	}
	m.DefaultLimit = map[string]int{}
	for _, format := range query.Formats {
		q, err := parse(map[string]any{"metric": "incidents", "groupBy": "country", "format": format})
		require.NoError(t, err, format)
		m.DefaultLimit[format] = q.Limit
	}
	keys := []string{"country", "asn", "trap", "action", "ip", "probe"}
	for m.MaxGroupBy < len(keys) && accepts(map[string]any{"metric": "incidents", "groupBy": keys[:m.MaxGroupBy+1]}) {
		m.MaxGroupBy++
	}
	require.Equal(t, query.MaxGroupBy, m.MaxGroupBy)
	m.MaxLimit = query.MaxLimit
	require.True(t, accepts(map[string]any{"metric": "incidents", "groupBy": "country", "limit": m.MaxLimit}))
	require.False(t, accepts(map[string]any{"metric": "incidents", "groupBy": "country", "limit": m.MaxLimit + 1}))
	m.Greylist.Filters, m.Greylist.Exclude = []string{}, []string{}
	for _, k := range filterKeys {
		if accepts(map[string]any{"queryType": query.TypeGreylist, "filters": map[string]any{k: sample[k]}}) {
			m.Greylist.Filters = append(m.Greylist.Filters, k)
		}
		if accepts(map[string]any{"queryType": query.TypeGreylist, "exclude": map[string]any{k: sample[k]}}) {
			m.Greylist.Exclude = append(m.Greylist.Exclude, k)
		}
	}
	for _, kind := range query.Annotations {
		a := struct {
			Name    string   `json:"name"`
			Filters []string `json:"filters"`
		}{Name: kind, Filters: []string{}}
		for _, k := range filterKeys {
			if accepts(map[string]any{"queryType": query.TypeAnnotations, "annotation": kind, "filters": map[string]any{k: sample[k]}}) {
				a.Filters = append(a.Filters, k)
			}
		}
		m.Annotations = append(m.Annotations, a)
	}
	m.Probes.Filters = []string{}
	for _, k := range filterKeys {
		if accepts(map[string]any{"queryType": query.TypeProbes, "filters": map[string]any{k: sample[k]}}) {
			m.Probes.Filters = append(m.Probes.Filters, k)
		}
	}
	m.Trend.Formats, m.Trend.Directions, m.Trend.Measures = query.TrendFormats, trend.Directions, trend.Measures
	tq, err := parse(map[string]any{"queryType": query.TypeTrend, "metric": "incidents", "groupBy": "asn"})
	require.NoError(t, err)
	require.Equal(t, []string{tq.Format, tq.Direction}, []string{m.Trend.Formats[0], m.Trend.Directions[0]}, "defaults first")
	nq, err := parse(map[string]any{"queryType": query.TypeTrend, "metric": "incidents", "groupBy": "asn", "format": query.FormatNumeric})
	require.NoError(t, err)
	require.Equal(t, m.Trend.Measures[0], nq.Measure, "default measure first")
	m.Trend.DefaultLimit = tq.Limit
	for _, kind := range query.EventKinds {
		k := struct {
			Name    string   `json:"name"`
			Table   string   `json:"table"`
			Filters []string `json:"filters"`
		}{Name: kind, Table: string(query.EventsTable(kind)), Filters: []string{}}
		for _, f := range filterKeys {
			in := map[string]any{"queryType": query.TypeEvents, "events": kind, "filters": map[string]any{f: sample[f]}}
			if accepts(in) {
				k.Filters = append(k.Filters, f)
			}
			in["exclude"], in["filters"] = in["filters"], nil
			require.Equal(t, slices.Contains(k.Filters, f), accepts(in), "events %s exclude %s as they filter", kind, f)
		}
		m.Events.Kinds = append(m.Events.Kinds, k)
	}
	eq, err := parse(map[string]any{"queryType": query.TypeEvents, "events": query.EventsIncidents})
	require.NoError(t, err)
	m.Events.DefaultLimit, m.Events.MaxLimit = eq.Limit, query.MaxEventsLimit
	require.False(t, accepts(map[string]any{"queryType": query.TypeEvents, "events": query.EventsIncidents, "limit": m.Events.MaxLimit + 1}))
	m.Keys.Model, m.Keys.Grafana = query.Keys, query.GrafanaKeys
	grafana := map[string]any{"metric": "incidents"}
	for _, k := range query.GrafanaKeys {
		grafana[k] = "x"
	}
	require.True(t, accepts(grafana), "Grafana's keys are ignored")
	require.False(t, accepts(map[string]any{"metric": "incidents", "filterz": map[string]any{}}), "an unknown key is refused")
	golden(t, "query-model.golden.json", m)
}

// golden compares v, as indented JSON, with testdata/name, first rewriting the file under -update.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run `go test ./internal/catalog -update` to create it")
	require.JSONEq(t, string(want), string(b), "%s differs from the code: run `go test ./internal/catalog -update`, then check the frontend (cd plugin && npx jest)", path)
}
