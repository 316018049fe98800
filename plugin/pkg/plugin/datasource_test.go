package plugin

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/pluginharness"
	"github.com/sview-project/sview/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden .jsonc files")

func TestMain(m *testing.M) {
	// pgx pools keep a health-check goroutine until closed; Dispose closes them.
	goleak.VerifyTestMain(m)
}

func newSeeded(t testing.TB, redis *cache.RedisConfig) (*Datasource, *pgxpool.Pool) {
	t.Helper()
	url := testenv.DatabaseURL(t)
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, pluginharness.Seed(context.Background(), pool))
	d, err := New(Settings{DatabaseURL: url, ReadURL: url, Redis: redis, QueryTimeout: 10 * time.Second, MaxRows: 100_000,
		Access: testAccess(t, `{}`)}, log.DefaultLogger, prometheus.NewRegistry())
	require.NoError(t, err)
	t.Cleanup(d.Dispose)
	return d, pool
}

func dataQuery(refID, js string) backend.DataQuery {
	return backend.DataQuery{RefID: refID, JSON: json.RawMessage(js), Interval: time.Hour,
		TimeRange: backend.TimeRange{From: pluginharness.SeedFrom, To: pluginharness.SeedTo}}
}

// stable drops what changes between runs (when the answer was computed) from golden output.
func stable(dr *backend.DataResponse) {
	for _, f := range dr.Frames {
		if f.Meta != nil {
			if m, ok := f.Meta.Custom.(map[string]any); ok {
				delete(m, "computedAt")
				delete(m, "cache")
				delete(m, "watermark") // seeded relative to now
			}
		}
	}
}

func TestQueryDataGolden(t *testing.T) {
	t.Parallel()
	d, _ := newSeeded(t, nil)
	tests := []struct{ name, query string }{
		{"stats_timeseries", `{"queryType":"stats","metric":"incidents","format":"timeseries"}`},
		{"stats_grouped", `{"queryType":"stats","metric":"incidents","groupBy":"country","format":"timeseries"}`},
		{"stats_table", `{"queryType":"stats","preset":"top_countries_by_incidents_list"}`},
		{"stats_map", `{"queryType":"stats","metric":"attackers","format":"map"}`},
		{"stats_keys", `{"queryType":"stats","metric":"incidents","groupBy":["asn","trap"],"format":"table"}`},
		{"greylist", `{"queryType":"greylist","filters":{"tag":["telnet","port_scan"]}}`},
		{"leak", `{"queryType":"leak","sha1":"` + sha1Password + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{dataQuery("A", tt.query)}})
			require.NoError(t, err)
			dr := resp.Responses["A"]
			require.NoError(t, dr.Error)
			stable(&dr)
			experimental.CheckGoldenJSONResponse(t, "testdata", tt.name, &dr, *update)
		})
	}
}

func TestQueryDataValues(t *testing.T) {
	t.Parallel()
	d, _ := newSeeded(t, nil)
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{
		dataQuery("A", `{"queryType":"stats","metric":"incidents"}`),
		dataQuery("B", `{"queryType":"stats","metric":"usages","groupBy":"password","format":"table"}`),
	}})
	require.NoError(t, err)
	a := resp.Responses["A"]
	require.NoError(t, a.Error)
	require.Len(t, a.Frames, 1)
	var got []int64
	for i := range a.Frames[0].Rows() {
		got = append(got, a.Frames[0].Fields[1].At(i).(int64))
	}
	require.Equal(t, []int64{3, 4, 5, 6, 7, 8}, got, "h+1 logins plus 2 scans per hour")
	b := resp.Responses["B"]
	require.NoError(t, b.Error)
	require.Equal(t, "admin", b.Frames[0].Fields[0].At(0))
	require.Equal(t, int64(5), b.Frames[0].Fields[1].At(0))
}

func TestQueryDataErrors(t *testing.T) {
	t.Parallel()
	d, _ := newSeeded(t, nil)
	tests := []struct {
		name    string
		query   string
		headers map[string]string
		ctx     func() context.Context
		status  backend.Status
		contain string
	}{
		{name: "bad field", query: `{"queryType":"stats","metric":"bananas"}`, status: backend.StatusBadRequest, contain: "metric"},
		{name: "unknown preset", query: `{"queryType":"stats","preset":"nope"}`, status: backend.StatusBadRequest, contain: "preset"},
		{name: "bad json", query: `{"queryType":`, status: backend.StatusBadRequest, contain: "JSON"},
		{name: "misspelt filter", query: `{"queryType":"stats","metric":"incidents","filters":{"counrty":["CZ"]}}`,
			status: backend.StatusBadRequest, contain: `filters: unknown key "counrty"; allowed: action, asn, command, country,`},
		{name: "misspelt exclusion", query: `{"refId":"A","queryType":"stats","metric":"incidents","exclude":{"contry":["CZ"]}}`,
			status: backend.StatusBadRequest, contain: `exclude: unknown key "contry"`},
		{name: "unknown top-level key", query: `{"refId":"A","queryType":"stats","metric":"incidents","groupby":"country"}`,
			status: backend.StatusBadRequest, contain: `query: unknown key "groupby"`},
		{name: "bad netblock", query: `{"queryType":"stats","metric":"incidents","filters":{"ip":["192.0.2.0/24","192.0.2.0/40"]}}`,
			status: backend.StatusBadRequest, contain: `filters.ip "192.0.2.0/40"`},
		{name: "excluding a probe outside the scope", query: `{"queryType":"stats","metric":"incidents","exclude":{"probe":[2]}}`,
			status: backend.StatusForbidden, contain: "probe 2"},
		{name: "template variable in alert", query: `{"queryType":"stats","metric":"incidents","filters":{"country":["$country"]}}`,
			headers: map[string]string{"FromAlert": "true"}, status: backend.StatusBadRequest, contain: "$country is still in the query"},
		{name: "plain password in a leak query", query: `{"queryType":"leak","password":"password"}`,
			status: backend.StatusBadRequest, contain: "send sha1 or prefix"},
		{name: "cancelled", query: `{"queryType":"stats","metric":"incidents"}`, status: statusCancelled, contain: "cancelled",
			ctx: func() context.Context { c, cancel := context.WithCancel(context.Background()); cancel(); return c }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx()
			}
			resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Headers: tt.headers, Queries: []backend.DataQuery{
				dataQuery("A", tt.query), dataQuery("B", `{"queryType":"leak","sha1":"`+sha1Password+`"}`)}})
			require.NoError(t, err, "a bad query never fails the request")
			dr := resp.Responses["A"]
			require.Error(t, dr.Error)
			require.Equal(t, tt.status, dr.Status)
			require.Equal(t, backend.ErrorSourceDownstream, dr.ErrorSource)
			require.Contains(t, dr.Error.Error(), tt.contain)
			if tt.ctx == nil {
				require.NoError(t, resp.Responses["B"].Error, "the other query of the request is answered")
			}
		})
	}
}

const sha1Password = "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"

// grafanaQuery is a query as Grafana's DataSourceWithBackend sends it: the panel's target (as the
// frontend's applyTemplateVariables returns it) and the fields Grafana adds.
func grafanaQuery(refID, model string) backend.DataQuery {
	return dataQuery(refID, `{"refId":"`+refID+`","key":"Q-3f2a","hide":false,"datasource":{"type":"sview-sentinel-datasource","uid":"sview"},`+
		`"datasourceId":7,"intervalMs":3600000,"maxDataPoints":1113,"queryCachingTTL":0,`+model[1:])
}

// TestQueryDataGrafanaShape: the fields Grafana adds to every query are ignored, netblocks
// match any of them and exclusions leave rows out (seed: per hour h, h+1 incidents from
// 192.0.2.1 in CZ and 2 from 198.51.100.7 in DE).
func TestQueryDataGrafanaShape(t *testing.T) {
	t.Parallel()
	d, _ := newSeeded(t, nil)
	cases := map[string]struct {
		model string
		want  []int64
	}{
		"all":                  {`{"queryType":"stats","metric":"incidents","format":"timeseries","period":""}`, []int64{3, 4, 5, 6, 7, 8}},
		"netblocks":            {`{"queryType":"stats","metric":"incidents","filters":{"ip":["192.0.2.0/24","198.51.100.7"]}}`, []int64{3, 4, 5, 6, 7, 8}},
		"one netblock (saved)": {`{"queryType":"stats","metric":"incidents","filters":{"ip":"198.51.100.0/24"}}`, []int64{2, 2, 2, 2, 2, 2}},
		"exclude a country":    {`{"queryType":"stats","metric":"incidents","exclude":{"country":["DE"]}}`, []int64{1, 2, 3, 4, 5, 6}},
		"exclude an asn":       {`{"queryType":"stats","metric":"incidents","exclude":{"asn":["64500"]}}`, []int64{2, 2, 2, 2, 2, 2}},
		"exclude a netblock":   {`{"queryType":"stats","metric":"incidents","exclude":{"ip":["198.51.100.0/24"]}}`, []int64{1, 2, 3, 4, 5, 6}},
		"filter and exclude":   {`{"queryType":"stats","metric":"incidents","filters":{"ip":["192.0.2.0/24"]},"exclude":{"ip":"192.0.2.1"}}`, []int64{0, 0, 0, 0, 0, 0}},
		// ad-hoc filters as the frontend sends them (Grafana's AdHocVariableFilter): they narrow
		"ad-hoc = narrows the panel's list": {`{"queryType":"stats","metric":"incidents","filters":{"country":["CZ","DE"]},` +
			`"adhoc":[{"key":"country","operator":"=","value":"CZ"}]}`, []int64{1, 2, 3, 4, 5, 6}},
		"ad-hoc = outside the panel's list": {`{"queryType":"stats","metric":"incidents","filters":{"country":["DE"]},` +
			`"adhoc":[{"key":"country","operator":"=","value":"CZ"}]}`, []int64{0, 0, 0, 0, 0, 0}},
		"ad-hoc != excludes": {`{"queryType":"stats","metric":"incidents","adhoc":[{"key":"country","operator":"!=","value":"DE"}]}`,
			[]int64{1, 2, 3, 4, 5, 6}},
		"ad-hoc =| within a netblock": {`{"queryType":"stats","metric":"incidents","filters":{"ip":["198.51.100.0/24","192.0.2.0/24"]},` +
			`"adhoc":[{"key":"ip","operator":"=|","value":"198.51.100.7","values":["198.51.100.7","203.0.113.0/24"]}]}`, []int64{2, 2, 2, 2, 2, 2}},
	}
	var queries []backend.DataQuery
	for name, c := range cases {
		queries = append(queries, grafanaQuery(name, c.model))
	}
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: queries})
	require.NoError(t, err)
	for name, c := range cases {
		r := resp.Responses[name]
		require.NoError(t, r.Error, name)
		require.Len(t, r.Frames, 1, name)
		var got []int64
		for i := range r.Frames[0].Rows() {
			got = append(got, r.Frames[0].Fields[1].At(i).(int64))
		}
		require.Equal(t, c.want, got, name)
	}
}

// TestQueryDataAdhocNotices: an ad-hoc key a panel's table lacks leaves its answer as it is and
// says so; a greylist left nothing by its ad-hoc filters lists no entry.
func TestQueryDataAdhocNotices(t *testing.T) {
	t.Parallel()
	d, _ := newSeeded(t, nil)
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{
		grafanaQuery("A", `{"queryType":"stats","metric":"incidents","adhoc":[{"key":"port","operator":"=","value":"22"}]}`),
		grafanaQuery("B", `{"queryType":"greylist","filters":{"country":["CZ"]}}`),
		grafanaQuery("C", `{"queryType":"greylist","filters":{"country":["CZ"]},"adhoc":[{"key":"country","operator":"=","value":"DE"}]}`),
		grafanaQuery("D", `{"queryType":"stats","metric":"incidents","adhoc":[{"key":"country","operator":"=~","value":"C.*"}]}`),
	}})
	require.NoError(t, err)
	a := resp.Responses["A"]
	require.NoError(t, a.Error)
	var got []int64
	for i := range a.Frames[0].Rows() {
		got = append(got, a.Frames[0].Fields[1].At(i).(int64))
	}
	require.Equal(t, []int64{3, 4, 5, 6, 7, 8}, got, "the panel's own answer")
	require.Equal(t, []data.Notice{{Severity: data.NoticeSeverityInfo,
		Text: "Ad-hoc filter not applied to this panel: port = 22: metric incidents (table incidents) has no port"}}, a.Frames[0].Meta.Notices)
	require.NoError(t, resp.Responses["B"].Error)
	require.Equal(t, 1, resp.Responses["B"].Frames[0].Rows(), "192.0.2.1 is the seeded CZ entry")
	require.NoError(t, resp.Responses["C"].Error)
	require.Equal(t, 0, resp.Responses["C"].Frames[0].Rows(), "CZ and DE have no entry in common")
	require.Equal(t, backend.StatusBadRequest, resp.Responses["D"].Status)
	require.ErrorContains(t, resp.Responses["D"].Error, `adhoc[0].operator "=~": ad-hoc operator not supported (allowed: =, !=, =|, !=|)`)
}

func TestAlertQueries(t *testing.T) {
	t.Parallel()
	d, _ := newSeeded(t, nil)
	alert := map[string]string{"FromAlert": "true", "X-Cache-Skip": "true"}
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Headers: alert, Queries: []backend.DataQuery{
		dataQuery("A", `{"queryType":"stats","metric":"incidents","groupBy":"country","filters":{"country":["CZ","DE"]}}`),
		dataQuery("B", `{"queryType":"stats","metric":"incidents","filters":{"country":["FR"]},"groupBy":"country"}`),
		dataQuery("C", `{"queryType":"stats","metric":"attackers","groupBy":"country","format":"table"}`),
		dataQuery("D", `{"queryType":"status"}`),
	}})
	require.NoError(t, err)
	a := resp.Responses["A"]
	require.NoError(t, a.Error)
	require.Len(t, a.Frames, 2, "one frame per series")
	for _, f := range a.Frames {
		require.Equal(t, data.FrameTypeTimeSeriesMulti, f.Meta.Type)
		require.Equal(t, data.FieldTypeTime, f.Fields[0].Type())
		require.True(t, f.Fields[1].Type().Numeric())
		require.Contains(t, []string{"CZ", "DE"}, f.Fields[1].Labels["country"])
	}
	b := resp.Responses["B"]
	require.NoError(t, b.Error)
	require.Len(t, b.Frames, 1, "no data is a typed empty frame")
	require.Zero(t, b.Frames[0].Rows())
	require.Equal(t, data.FieldTypeTime, b.Frames[0].Fields[0].Type())
	c := resp.Responses["C"]
	require.NoError(t, c.Error)
	numeric := 0
	for _, f := range c.Frames[0].Fields {
		if f.Type().Numeric() {
			numeric++
		}
	}
	require.Equal(t, 1, numeric, "a table for alerts has exactly one numeric column")
	st := resp.Responses["D"]
	require.NoError(t, st.Error)
	require.Len(t, st.Frames, 1, "alerts get only the numeric lag frame")
	require.Len(t, st.Frames[0].Fields, 3, "table, precision and one number")
	require.Equal(t, "overdue_seconds", st.Frames[0].Fields[2].Name)
	require.Equal(t, 12, st.Frames[0].Rows(), "incidents, passwords, feed events and commands at three precisions; ports has no rows yet")
}

func TestStatusFramesAndCacheState(t *testing.T) {
	t.Parallel()
	d, _ := newSeeded(t, nil)
	q := dataQuery("A", `{"queryType":"stats","metric":"incidents","period":"1w"}`)
	var states []string
	for range 2 {
		resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{q}})
		require.NoError(t, err)
		dr := resp.Responses["A"]
		require.NoError(t, dr.Error)
		states = append(states, dr.Frames[0].Meta.Custom.(map[string]any)["cache"].(string))
	}
	require.Equal(t, []string{"miss", "hit"}, states)
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{dataQuery("S", `{"queryType":"status"}`)}})
	require.NoError(t, err)
	s := resp.Responses["S"]
	require.NoError(t, s.Error)
	require.Len(t, s.Frames, 3, "lag, cache and read replica")
	require.Equal(t, "memory", s.Frames[1].Fields[0].At(0))
	// Grafana names a field "<frame> <field>" when frames of different names come together,
	// unless the datasource names it: every status field carries its own name.
	for _, f := range s.Frames {
		for _, fd := range f.Fields {
			require.NotNil(t, fd.Config, "%s.%s", f.Name, fd.Name)
			require.Equal(t, fd.Name, fd.Config.DisplayNameFromDS, "%s.%s", f.Name, fd.Name)
		}
	}
	lag := s.Frames[0]
	var names []string
	for _, fd := range lag.Fields {
		names = append(names, fd.Name)
	}
	require.Equal(t, []string{"table", "precision", "lag_seconds", "due_seconds", "overdue_seconds"}, names)
	for i := range lag.Rows() {
		require.Zero(t, lag.Fields[4].At(i), "the seeded watermarks are on time: row %d", i)
	}
}

// TestOverdueStatus: a daily rollup most of a day behind is on time; a quarterly one 40
// minutes behind is overdue by 7 minutes, in the status frames and for alerts alike.
func TestOverdueStatus(t *testing.T) {
	t.Parallel()
	d, pool := newSeeded(t, nil)
	ctx := context.Background()
	_, err := pool.Exec(ctx, `UPDATE rollup_watermarks SET watermark = CASE precision
		WHEN 'quarterly' THEN now() - interval '40 minutes'
		WHEN 'hourly' THEN now() - interval '70 minutes'
		ELSE now() - interval '23 hours' END WHERE source = 'incidents'`)
	require.NoError(t, err)
	for _, headers := range []map[string]string{nil, {"FromAlert": "true"}} {
		resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Headers: headers, Queries: []backend.DataQuery{dataQuery("S", `{"queryType":"status"}`)}})
		require.NoError(t, err)
		s := resp.Responses["S"]
		require.NoError(t, s.Error)
		f := s.Frames[0]
		over := f.Fields[len(f.Fields)-1]
		require.Equal(t, "overdue_seconds", over.Name)
		got := map[string]float64{}
		for i := range f.Rows() {
			got[f.Fields[0].At(i).(string)+"_"+f.Fields[1].At(i).(string)] = over.At(i).(float64)
		}
		require.InDelta(t, 7*60, got["incidents_quarterly"], 5, "alert=%v", headers != nil)
		require.Zero(t, got["incidents_hourly"])
		require.Zero(t, got["incidents_daily"])
	}
	h, err := d.CheckHealth(ctx, &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Contains(t, h.Message, "aggregation lagging: incidents_quarterly is 40m0s behind (more than 33m0s: 7m0s overdue")
	require.NotContains(t, h.Message, "incidents_hourly")
	require.NotContains(t, h.Message, "incidents_daily", "a daily rollup a day behind is on time")
}

func TestDegradedRedis(t *testing.T) {
	t.Parallel()
	d, _ := newSeeded(t, &cache.RedisConfig{Addrs: []string{"127.0.0.1:1"}})
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{
		dataQuery("A", `{"queryType":"stats","metric":"incidents"}`)}})
	require.NoError(t, err)
	dr := resp.Responses["A"]
	require.NoError(t, dr.Error, "a dead Redis never fails a panel")
	require.Len(t, dr.Frames[0].Meta.Notices, 1)
	require.Contains(t, dr.Frames[0].Meta.Notices[0].Text, "shared cache is unreachable")

	h, err := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusOk, h.Status)
	require.Contains(t, h.Message, "Degraded: ")
	require.Contains(t, h.Message, "Redis is unreachable")
}

func TestCheckHealth(t *testing.T) {
	t.Parallel()
	d, pool := newSeeded(t, nil)
	ctx := context.Background()
	h, err := d.CheckHealth(ctx, &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusOk, h.Status, h.Message)
	require.NotContains(t, h.Message, "Degraded")
	require.Contains(t, h.Message, "schema version")

	_, err = pool.Exec(ctx, "UPDATE rollup_watermarks SET watermark = now() - interval '5 hours' WHERE precision = 'quarterly'")
	require.NoError(t, err)
	h, err = d.CheckHealth(ctx, &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusOk, h.Status)
	require.Contains(t, h.Message, "aggregation lagging: incidents_quarterly is 5h0m0s behind (more than 33m0s")

	_, err = pool.Exec(ctx, "UPDATE schema_migrations SET version = 2")
	require.NoError(t, err)
	h, err = d.CheckHealth(ctx, &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusError, h.Status)
	require.Contains(t, h.Message, "[schema]")
	require.Contains(t, h.Message, "sview migrate up")

	unreachable, err := New(Settings{DatabaseURL: "postgres://grafana@127.0.0.1:1/sview", ReadURL: "postgres://grafana@127.0.0.1:1/sview",
		QueryTimeout: time.Second, MaxRows: 10}, log.DefaultLogger, nil)
	require.NoError(t, err, "the factory does not connect")
	defer unreachable.Dispose()
	h, err = unreachable.CheckHealth(ctx, &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusError, h.Status)
	require.Contains(t, h.Message, "[network] cannot reach the primary database at 127.0.0.1:1/sview as grafana")

	wrongDB := testenv.AdminURL()
	noSchema, err := New(Settings{DatabaseURL: wrongDB, ReadURL: wrongDB, QueryTimeout: time.Second, MaxRows: 10}, log.DefaultLogger, nil)
	require.NoError(t, err)
	defer noSchema.Dispose()
	h, err = noSchema.CheckHealth(ctx, &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusError, h.Status)
	require.Contains(t, h.Message, "no sview schema")
}

// sender collects a resource response.
type sender struct{ resp *backend.CallResourceResponse }

func (s *sender) Send(r *backend.CallResourceResponse) error { s.resp = r; return nil }

func TestCallResource(t *testing.T) {
	t.Parallel()
	d, _ := newSeeded(t, nil)
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"variables/asns?q=other", 200, `[{"value":"64501","text":"AS64501 OTHER-NET"}]` + "\n"},
		{"variables/probes", 200, `[{"value":"1","text":"0000000000000001 #1"},{"value":"2","text":"0000000000000002 #2"}]` + "\n"},
		{"leak?prefix=5baa6", 200, `[{"hash":"` + sha1Password + `","count":100,"sources":["telnet","http"]}]` + "\n"},
		{"greylist/2026-01-10.csv", 200, "# For the terms of use see https://view.sentinel.turris.cz/greylist-data/LICENSE.txt\nAddress,Tags\n192.0.2.1,telnet\n"},
		{"variables/nope", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var s sender
			req := &backend.CallResourceRequest{Method: http.MethodGet, Path: strings.SplitN(tt.path, "?", 2)[0], URL: tt.path,
				PluginContext: backend.PluginContext{User: &backend.User{Login: "admin", Role: "Admin"}}}
			require.NoError(t, d.CallResource(context.Background(), req, &s))
			require.Equal(t, tt.status, s.resp.Status, string(s.resp.Body))
			if tt.body != "" {
				require.Equal(t, tt.body, string(s.resp.Body))
			}
		})
	}
}

// TestTagValues: the values of ad-hoc filters, by volume within the dashboard's range, as the
// caller's scope sees them (seed: 192.0.2.1 21 incidents, 198.51.100.7 12).
func TestTagValues(t *testing.T) {
	t.Parallel()
	d, pool := newSeeded(t, nil)
	operator := readerDatasource(t, pool, testAccess(t, `{"scopes":[{"login":"noc","asns":[64501]}]}`))
	rng := fmt.Sprintf("from=%d&to=%d", pluginharness.SeedFrom.UnixMilli(), pluginharness.SeedTo.UnixMilli())
	before := fmt.Sprintf("from=%d&to=%d", pluginharness.SeedFrom.Add(-time.Hour).UnixMilli(), pluginharness.SeedFrom.UnixMilli())
	admin := &backend.User{Login: "admin", Role: "Admin"}
	tests := []struct {
		name string
		d    *Datasource
		user *backend.User
		path string
		want string
	}{
		{"addresses by incidents", d, admin, "variables/ips?" + rng, `[{"value":"192.0.2.1","text":"192.0.2.1"},{"value":"198.51.100.7","text":"198.51.100.7"}]`},
		{"the top one", d, admin, "variables/ips?limit=1&" + rng, `[{"value":"192.0.2.1","text":"192.0.2.1"}]`},
		{"nothing before the data", d, admin, "variables/ips?" + before, `[]`},
		{"countries in the range", d, admin, "variables/countries?" + rng, `[{"value":"CZ","text":"CZ"},{"value":"DE","text":"DE"}]`},
		{"AS numbers with names", d, admin, "variables/asns?" + rng, `[{"value":"64500","text":"AS64500 EXAMPLE-NET"},{"value":"64501","text":"AS64501 OTHER-NET"}]`},
		{"passwords by usages", d, admin, "variables/passwords?" + rng, `[{"value":"admin","text":"admin"},{"value":"123456","text":"123456"}]`},
		{"usernames", d, admin, "variables/usernames?q=ro&" + rng, `[{"value":"root","text":"root"}]`},
		{"traps in the range", d, admin, "variables/traps?" + rng, `[{"value":"minipot_telnet","text":"minipot_telnet"},{"value":"fwlogs","text":"fwlogs"}]`},
		{"taxonomies of feed events", d, admin, "variables/taxonomies?" + rng,
			`[{"value":"information-gathering","text":"information-gathering"},{"value":"malicious-code","text":"malicious-code"}]`},
		{"feeds", d, admin, "variables/feeds?" + rng, `[{"value":"Scan-SSH","text":"Scan-SSH"},{"value":"warden.dionaea","text":"warden.dionaea"}]`},
		{"commands", d, admin, "variables/commands?" + rng, `[{"value":"uname -a","text":"uname -a"}]`},
		{"a network operator sees the feed events of its own space", operator, &backend.User{Login: "noc", Role: "Viewer"},
			"variables/feeds?" + rng, `[{"value":"Scan-SSH","text":"Scan-SSH"}]`},
		{"a network operator sees its own attackers", operator, &backend.User{Login: "noc", Role: "Viewer"}, "variables/ips?" + rng,
			`[{"value":"198.51.100.7","text":"198.51.100.7"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sender
			req := &backend.CallResourceRequest{Method: http.MethodGet, Path: strings.SplitN(tt.path, "?", 2)[0], URL: tt.path,
				PluginContext: backend.PluginContext{User: tt.user}}
			require.NoError(t, tt.d.CallResource(context.Background(), req, &s))
			require.Equal(t, 200, s.resp.Status, string(s.resp.Body))
			require.JSONEq(t, tt.want, string(s.resp.Body))
		})
	}
}

func TestTemplateVariable(t *testing.T) {
	tests := []struct{ json, want string }{
		{`{"filters":{"probe":["$probe"]}}`, "$probe"},
		{`{"filters":{"country":"${country:csv}"}}`, "${country:csv}"},
		{`{"filters":{"password":"$ecret"}}`, ""},
		{`{"filters":{"password":["123456","$ecret"]}}`, ""},
		{`{"password":"pa$$word"}`, ""},
		{`{"metric":"incidents","limit":5}`, ""},
		{`{"filters":{"ip":"192.0.2.1"}}`, ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, templateVariable(json.RawMessage(tt.json)), tt.json)
	}
}

// TestReadOnlyRole runs the datasource as a login with only the sview_reader role, as
// deployments should: health, every query type and the resources must work read-only.
func TestReadOnlyRole(t *testing.T) {
	t.Parallel()
	_, pool := newSeeded(t, nil)
	ctx := context.Background()
	d := readerDatasource(t, pool, testAccess(t, `{}`))

	h, err := d.CheckHealth(ctx, &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusOk, h.Status, h.Message)
	resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{
		dataQuery("stats", `{"queryType":"stats","metric":"incidents","groupBy":"trap"}`),
		dataQuery("greylist", `{"queryType":"greylist"}`),
		dataQuery("leak", `{"queryType":"leak","prefix":"5baa6"}`),
		dataQuery("status", `{"queryType":"status"}`),
		dataQuery("events", `{"queryType":"events","events":"logins"}`),
	}})
	require.NoError(t, err)
	for ref, dr := range resp.Responses {
		require.NoError(t, dr.Error, ref)
	}
	require.Equal(t, 2, resp.Responses["events"].Frames[0].Rows(), "the reader role reads raw rows and probe serials")
	var s sender
	require.NoError(t, d.CallResource(ctx, &backend.CallResourceRequest{Method: "GET", Path: "variables/tags", URL: "variables/tags"}, &s))
	require.Equal(t, 200, s.resp.Status, string(s.resp.Body))
}

// readerDatasource is a datasource on pool's database that logs in as a fresh member of
// sview_reader, as Grafana's does.
func readerDatasource(t *testing.T, pool *pgxpool.Pool, access Access) *Datasource {
	t.Helper()
	ctx := context.Background()
	role := "sview_t_reader_" + strings.ReplaceAll(strings.TrimPrefix(testenv.KeyPrefix(t), "sviewtest:"), ":", "")
	_, err := pool.Exec(ctx, "CREATE ROLE "+role+" LOGIN IN ROLE sview_reader")
	require.NoError(t, err)
	u, err := url.Parse(pool.Config().ConnString())
	require.NoError(t, err)
	u.User = url.User(role)
	d, err := New(Settings{DatabaseURL: u.String(), ReadURL: u.String(), QueryTimeout: 10 * time.Second, MaxRows: 1000, Access: access},
		log.DefaultLogger, prometheus.NewRegistry())
	require.NoError(t, err)
	t.Cleanup(func() {
		d.Dispose()
		_, _ = pool.Exec(context.Background(), "DROP OWNED BY "+role)
		_, _ = pool.Exec(context.Background(), "DROP ROLE IF EXISTS "+role)
	})
	return d
}

// TestReplicaDown points the datasource at a read replica that does not answer: with the
// fallback queries go to the primary and the health check warns; without it they fail with a
// message naming the replica and the setting, and so does the health check.
func TestReplicaDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.DatabaseURL(t)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, pluginharness.Seed(ctx, pool))
	dead := "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=1"
	open := func(fallback string) *Datasource {
		d, err := New(Settings{DatabaseURL: url, ReadURL: dead, ReadFallback: fallback, QueryTimeout: 10 * time.Second,
			MaxRows: 100_000, Access: testAccess(t, `{}`)}, log.DefaultLogger, prometheus.NewRegistry())
		require.NoError(t, err)
		t.Cleanup(d.Dispose)
		return d
	}
	queries := []backend.DataQuery{dataQuery("A", `{"queryType":"stats","metric":"incidents"}`), dataQuery("S", `{"queryType":"status"}`)}

	d := open("primary")
	resp, err := d.QueryData(ctx, &backend.QueryDataRequest{Queries: queries})
	require.NoError(t, err)
	require.NoError(t, resp.Responses["A"].Error, "answered by the primary")
	var replica *data.Frame
	for _, f := range resp.Responses["S"].Frames {
		if f.Name == "read_replica" {
			replica = f
		}
	}
	require.NotNil(t, replica, "the status frames show the replica")
	require.Equal(t, "down", replica.Fields[0].At(0), "replica_state")
	require.Equal(t, int64(0), replica.Fields[2].At(0), "replica_up")
	require.Equal(t, int64(1), replica.Fields[3].At(0), "reading_primary")
	h, err := d.CheckHealth(ctx, &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusOk, h.Status)
	require.Contains(t, h.Message, "the read replica at 127.0.0.1:1 is unreachable")
	require.Contains(t, string(h.JSONDetails), `"reading_primary":true`)

	d = open("none")
	resp, err = d.QueryData(ctx, &backend.QueryDataRequest{Queries: queries[:1]})
	require.NoError(t, err)
	require.ErrorContains(t, resp.Responses["A"].Error, "read replica unreachable at 127.0.0.1:1")
	h, err = d.CheckHealth(ctx, &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusError, h.Status)
	require.Contains(t, h.Message, `read-replica fallback is "none"`)
}
