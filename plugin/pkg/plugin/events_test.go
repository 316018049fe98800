package plugin

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/pluginharness"
	"github.com/sview-project/sview/internal/rollupstate"
)

// admin is a Grafana admin: under the default scopes, everything.
var admin = backend.PluginContext{User: &backend.User{Login: "admin", Role: "Admin"}}

// rangeQuery is a query over [from, to) as Grafana sends an annotation query.
func rangeQuery(js string, from, to time.Time) backend.DataQuery {
	return backend.DataQuery{RefID: "A", JSON: json.RawMessage(js), Interval: time.Hour, TimeRange: backend.TimeRange{From: from, To: to}}
}

func column(t *testing.T, f *data.Frame, name string) []any {
	t.Helper()
	fld, _ := f.FieldByName(name)
	require.NotNil(t, fld, "field %s of %s", name, f.Name)
	out := make([]any, fld.Len())
	for i := range out {
		out[i], _ = fld.ConcreteAt(i)
	}
	return out
}

// TestAnnotations: the three kinds over the seeded day, in the fields Grafana maps to
// annotations (time, timeEnd, title, text, tags).
func TestAnnotations(t *testing.T) {
	t.Parallel()
	d, pool := newSeeded(t, nil)
	ctx := context.Background()
	day := pluginharness.SeedFrom
	// The day before the seeded snapshot, 198.51.100.7 alone was listed: on the seeded day
	// 192.0.2.1 entered and 198.51.100.7 left.
	_, err := pool.Exec(ctx, `INSERT INTO greylist_history (day, ip, tags, score, probes, asn) VALUES ($1::date - 1, '198.51.100.7', '{port_scan}', 3, 3, 64501)`, day)
	require.NoError(t, err)
	require.NoError(t, rollupstate.RecordEvent(ctx, pool, rollupstate.Event{Kind: rollupstate.EventGap, Table: derived.Incidents,
		Precision: period.Hourly, From: day.Add(time.Hour), To: day.Add(4 * time.Hour), StartedAt: day.Add(5 * time.Hour), FinishedAt: day.Add(5*time.Hour + time.Minute), Rows: 12}))
	from, to := day.Add(-24*time.Hour), day.Add(48*time.Hour)
	run := func(js string) *data.Frame {
		t.Helper()
		resp, err := d.QueryData(ctx, &backend.QueryDataRequest{PluginContext: admin, Queries: []backend.DataQuery{rangeQuery(js, from, to)}})
		require.NoError(t, err)
		dr := resp.Responses["A"]
		require.NoError(t, dr.Error, js)
		require.Len(t, dr.Frames, 1)
		return dr.Frames[0]
	}

	f := run(`{"queryType":"annotations","annotation":"greylist"}`)
	require.Equal(t, []any{"192.0.2.1 entered the greylist", "198.51.100.7 left the greylist"}, column(t, f, "title"))
	require.Equal(t, []any{day, day}, column(t, f, "time"))
	require.Equal(t, []any{"greylist,entry,telnet", "greylist,exit,port_scan"}, column(t, f, "tags"))
	texts := column(t, f, "text")
	require.Contains(t, texts[0], ", AS64500 EXAMPLE-NET, tags telnet", "the AS's name, as asn_name")
	require.Equal(t, "score 3, AS64501 OTHER-NET, tags port_scan", texts[1])
	f = run(`{"queryType":"annotations","annotation":"greylist","filters":{"ip":["198.51.100.0/24"]}}`)
	require.Equal(t, []any{"198.51.100.7 left the greylist"}, column(t, f, "title"))
	f = run(`{"queryType":"annotations","annotation":"greylist","filters":{"asn":[64500]}}`)
	require.Equal(t, []any{"192.0.2.1 entered the greylist"}, column(t, f, "title"))

	f = run(`{"queryType":"annotations","annotation":"aggregation"}`)
	require.Equal(t, []any{"incidents hourly rollups closed late"}, column(t, f, "title"))
	require.Equal(t, []any{day.Add(time.Hour)}, column(t, f, "time"))
	require.Equal(t, []any{day.Add(4 * time.Hour)}, column(t, f, "timeEnd"))

	// Both probes reported in the six seeded hours only: silent before and after.
	f = run(`{"queryType":"annotations","annotation":"silence"}`)
	require.Equal(t, []any{"probe 0000000000000001 silent", "probe 0000000000000002 silent", "probe 0000000000000001 silent", "probe 0000000000000002 silent"},
		column(t, f, "title"))
	require.Equal(t, []any{day, day, to, to}, column(t, f, "timeEnd"))
	require.Equal(t, []any{day.Add(6 * time.Hour), day.Add(6 * time.Hour)}, column(t, f, "time")[2:])
}

// TestProbes: the last report and the silence per probe, as a table and as the alert's
// numeric frame.
func TestProbes(t *testing.T) {
	t.Parallel()
	d, _ := newSeeded(t, nil)
	ctx := context.Background()
	resp, err := d.QueryData(ctx, &backend.QueryDataRequest{PluginContext: admin, Queries: []backend.DataQuery{dataQuery("A", `{"queryType":"probes"}`)}})
	require.NoError(t, err)
	dr := resp.Responses["A"]
	require.NoError(t, dr.Error)
	f := dr.Frames[0]
	require.Equal(t, []any{"0000000000000001", "0000000000000002"}, column(t, f, "probe"))
	last := pluginharness.SeedFrom.Add(5*time.Hour + 15*time.Minute)
	require.Equal(t, []any{last, last.Add(15 * time.Minute)}, column(t, f, "last_seen"), "the end of the last quarter-hour with reports: logins at 5:10, scans at 5:20")
	require.Equal(t, []any{true, true}, column(t, f, "silent"))
	silent := column(t, f, "silent_seconds")
	require.InDelta(t, time.Since(last).Seconds(), silent[0], 60)

	// Under the default alert scope (public) a probe's reports are not the rule's to see.
	resp, err = d.QueryData(ctx, &backend.QueryDataRequest{Headers: map[string]string{backend.FromAlertHeaderName: "true"},
		Queries: []backend.DataQuery{dataQuery("A", `{"queryType":"probes"}`)}})
	require.NoError(t, err)
	require.Equal(t, backend.StatusForbidden, resp.Responses["A"].Status)
	d.settings.Access = testAccess(t, `{"alertScope":{"all":true}}`)
	resp, err = d.QueryData(ctx, &backend.QueryDataRequest{Headers: map[string]string{backend.FromAlertHeaderName: "true"},
		Queries: []backend.DataQuery{dataQuery("A", `{"queryType":"probes","filters":{"probe":[2]}}`)}})
	require.NoError(t, err)
	dr = resp.Responses["A"]
	require.NoError(t, dr.Error)
	f = dr.Frames[0]
	require.Equal(t, data.FrameTypeNumericLong, f.Meta.Type)
	require.Len(t, f.Fields, 2, "one label column and one number: one alert instance per probe")
	require.Equal(t, []any{"0000000000000002"}, column(t, f, "probe"))
}
