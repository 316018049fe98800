package dashboards

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/query"
)

// isLive reports a target of queryType live: a Grafana Live stream (docs/live.md), which
// QueryData refuses; internal/live and the plugin's stream tests cover it.
func isLive(raw json.RawMessage) bool {
	var q struct {
		QueryType string `json:"queryType"`
	}
	return json.Unmarshal(raw, &q) == nil && q.QueryType == query.TypeLive
}

// liveOnly reports a dashboard whose every target streams: it has no period, as a stream shows
// what arrives from now on.
func liveOnly(d Dashboard) bool {
	targets, err := d.Targets()
	if err != nil || len(targets) == 0 {
		return false
	}
	for _, tg := range targets {
		if !isLive(tg.JSON) {
			return false
		}
	}
	return true
}

// liveFields are the fields the plugin's live frames carry, by the live query's format
// (plugin/pkg/plugin/stream.go liveFrame and countStream).
var liveFields = map[string][]string{
	query.FormatTable:      {"time", "ip", "country", "asn", "asn_name", "probe", "trap", "action", "incidents", "dropped"},
	query.FormatTimeSeries: {"time", "incidents", "lost"},
}

// TestLiveDashboard: the Live dashboard streams in every panel, and its panels read the fields
// the plugin's live frames carry.
func TestLiveDashboard(t *testing.T) {
	for _, d := range load(t) {
		if d.UID != "sview-live" {
			continue
		}
		require.True(t, liveOnly(d), "%s: every panel streams", d.File)
		_, hasPeriod := d.Variable("period")
		require.False(t, hasPeriod, "%s: a stream has no period", d.File)
		panels := rawPanels(d)
		for _, tg := range mustTargets(t, d) {
			q, err := query.Parse(tg.JSON)
			require.NoError(t, err, "%s panel %q", d.File, tg.Panel.Title)
			for _, ref := range fieldRefs(panels[tg.Panel.ID]) {
				require.Contains(t, liveFields[q.Format], ref, "%s panel %q reads a field the stream does not send", d.File, tg.Panel.Title)
			}
		}
		return
	}
	t.Fatal("no dashboard sview-live")
}
