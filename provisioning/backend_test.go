package provisioning_test

import (
	"context"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/dashboards"
	"github.com/sview-project/sview/dashboards/paneltest"
	"github.com/sview-project/sview/provisioning"
)

// TestAlertQueriesThroughBackend runs every datasource query of every alert rule through the
// plugin's QueryData as Grafana's alerting does (FromAlert, the rule's relative time range,
// its interval) against seeded data: each must answer series that server-side expressions
// reduce to one number per series, and the inputs of a math expression must carry the same
// label names so Grafana can join them.
func TestAlertQueriesThroughBackend(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	url, _ := paneltest.SeededDatabase(t, now)
	b := paneltest.NewBackend(t, url)
	groups, err := provisioning.RuleGroups()
	require.NoError(t, err)
	for _, g := range groups {
		for _, r := range g.Rules {
			labelKeys := map[string][]string{}
			for _, q := range r.Data {
				if q.DatasourceUID != dashboards.DatasourceUID {
					continue
				}
				model, err := q.ModelJSON()
				require.NoError(t, err)
				interval := time.Minute
				if ms, ok := q.Model["intervalMs"].(int); ok {
					interval = time.Duration(ms) * time.Millisecond
				}
				t.Run(r.UID+"/"+q.RefID, func(t *testing.T) {
					frames, err := b.Verify(ctx, paneltest.Query{
						RefID: q.RefID, JSON: model, FromAlert: true, Interval: interval,
						From: now.Add(-time.Duration(q.RelativeTimeRange.From) * time.Second),
						To:   now.Add(-time.Duration(q.RelativeTimeRange.To) * time.Second),
					}, paneltest.NeedAlertSeries, nil)
					require.NoError(t, err, "%s", model)
					labelKeys[q.RefID] = seriesLabelNames(frames)
					if q.Model["queryType"] == "trend" {
						oneRowPerKey(t, frames, q.Model["groupBy"].(string))
					}
				})
			}
			for _, q := range r.Data {
				if q.Model["type"] != "math" {
					continue
				}
				var names [][]string
				for _, in := range mathRef.FindAllStringSubmatch(q.Model["expression"].(string), -1) {
					src := sourceQuery(r, in[1])
					keys, ok := labelKeys[src]
					if !ok {
						continue // its query failed above
					}
					names = append(names, keys)
				}
				if len(names) == 0 {
					continue
				}
				for _, n := range names[1:] {
					require.Equal(t, names[0], n, "%s/%s joins series with different label names", r.UID, q.RefID)
				}
			}
		}
	}
}

var mathRef = regexp.MustCompile(`\$\{?([A-Za-z0-9_]+)\}?`)

// sourceQuery follows reduce and threshold nodes from refID down to the datasource query.
func sourceQuery(r provisioning.Rule, refID string) string {
	for range r.Data { // a chain is never longer than the rule
		i := slices.IndexFunc(r.Data, func(q provisioning.RuleQuery) bool { return q.RefID == refID })
		if i < 0 || r.Data[i].DatasourceUID != provisioning.ExprUID {
			return refID
		}
		refID, _ = r.Data[i].Model["expression"].(string)
	}
	return refID
}

// seriesLabelNames are the label names of the series in frames, sorted and unique: the labels
// of time series, and the string columns of a numeric table, which Grafana turns into labels.
func seriesLabelNames(frames data.Frames) []string {
	var names []string
	for _, f := range frames {
		timeless := !slices.ContainsFunc(f.Fields, func(fd *data.Field) bool { return fd.Type().Time() })
		for _, fd := range f.Fields {
			for k := range fd.Labels {
				names = append(names, k)
			}
			if timeless && fd.Type() == data.FieldTypeString {
				names = append(names, fd.Name)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// oneRowPerKey: a trend's alert answer is one numeric table with a row per key (one alert
// instance each), its key in the column named after the grouping.
func oneRowPerKey(t *testing.T, frames data.Frames, groupBy string) {
	require.Len(t, frames, 1)
	f := frames[0]
	i := slices.IndexFunc(f.Fields, func(fd *data.Field) bool { return fd.Name == groupBy })
	require.GreaterOrEqual(t, i, 0, "no %s column", groupBy)
	seen := map[string]bool{}
	for r := range f.Rows() {
		key := f.Fields[i].At(r).(string)
		require.False(t, seen[key], "%s %s has two rows", groupBy, key)
		seen[key] = true
	}
	require.NotEmpty(t, seen)
}
