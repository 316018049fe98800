package dashboards

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/dashboards/paneltest"
	"github.com/sview-project/sview/internal/query"
)

// adhocSamples is a valid ad-hoc value of every filter key, chosen among staticSamples where
// a panel filters by the key too.
var adhocSamples = map[string]string{
	"probe": "1", "asn": "64500", "country": "CZ", "trap": "fwlogs", "action": "login", "ip": "192.0.2.1",
	"password": "123456", "username": "root", "port": "22", "tag": "telnet", "taxonomy": "information-gathering",
	"type": "scanner", "identifier": "ssh", "feed": "Scan-SSH", "provider": "Shadowserver", "command": "uname -a",
}

// TestAdhocVariable: every dashboard carries one ad-hoc variable on the sview datasource, and
// every panel takes an ad-hoc filter on any key with any operator Grafana offers that the
// model supports: it narrows the panel, or the panel ignores it (with a notice), never an
// error on a panel of a mixed dashboard.
func TestAdhocVariable(t *testing.T) {
	require.Len(t, adhocSamples, len(query.FilterKeys), "a sample for every filter key")
	trends := 0
	for _, d := range load(t) {
		var adhoc []Variable
		for _, v := range d.Templating.List {
			if v.Type == "adhoc" {
				adhoc = append(adhoc, v)
			}
		}
		require.Len(t, adhoc, 1, "%s: one ad-hoc variable", d.File)
		require.Equal(t, &Ref{Type: DatasourceType, UID: DatasourceUID}, adhoc[0].Datasource, d.File)

		targets, err := d.Targets()
		require.NoError(t, err)
		vars := maps.Clone(staticSamples)
		vars["period"] = []string{"1w"}
		for _, tg := range targets {
			q, err := paneltest.Interpolate(tg.JSON, vars)
			require.NoError(t, err)
			for _, key := range query.FilterKeys {
				for _, op := range query.AdhocOperators {
					f := paneltest.AdhocFilter{Key: key, Operator: op, Value: adhocSamples[key]}
					if op == query.OpOneOf || op == query.OpNotOneOf {
						f.Values = []string{f.Value}
					}
					withAdhoc, err := paneltest.WithAdhoc(q, []paneltest.AdhocFilter{f})
					require.NoError(t, err)
					parsed, err := query.Parse(withAdhoc)
					what := fmt.Sprintf("%s panel %q with ad-hoc %s %s %s", d.File, tg.Panel.Title, key, op, f.Value)
					require.NoError(t, err, what)
					applied := adhocApplied(t, parsed, key, op == query.OpNotEqual || op == query.OpNotOneOf)
					ignored := slices.ContainsFunc(parsed.AdhocIgnored, func(s string) bool { return strings.HasPrefix(s, key+" ") })
					switch parsed.QueryType {
					case query.TypeStats, query.TypeTrend, query.TypeGreylist, query.TypeLive:
						require.True(t, applied != ignored, "%s: applied %v, ignored %v %q", what, applied, ignored, parsed.AdhocIgnored)
					default: // leak lookups, status, annotations, probes: no attack data to narrow
						require.Empty(t, parsed.AdhocIgnored, what)
					}
					if parsed.QueryType == query.TypeTrend && (key == "country" || key == "asn" || key == "ip") {
						require.True(t, applied, "%s: a trend narrows", what)
						trends++
					}
				}
			}
		}
	}
	require.Positive(t, trends, "rising.json's trend panels take ad-hoc filters")
}

// adhocApplied reports whether the parsed query q holds an ad-hoc filter on key: among its
// exclusions (exclude) or its filters, or marked empty (an intersection with nothing left).
func adhocApplied(t *testing.T, q query.Query, key string, exclude bool) bool {
	f := q.Filters
	if exclude {
		f = q.Exclude
	} else if q.Empty {
		return true
	}
	b, err := json.Marshal(f)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	_, ok := m[key]
	return ok
}
