package pluginharness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/testenv"
)

// binary is built once per test run: a cold build takes about a minute on two cores.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sview-plugin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	root, _ := filepath.Abs("../..")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	binary, err = Build(ctx, root, dir)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// seededContext makes a seeded database and the PluginContext Grafana would send for a
// datasource configured to read it.
func seededContext(t *testing.T, extra map[string]any) backend.PluginContext {
	t.Helper()
	pc, _ := seededDatabase(t, extra)
	return pc
}

// seededDatabase is seededContext with the database's URL, for tests that write to it.
func seededDatabase(t testing.TB, extra map[string]any) (backend.PluginContext, string) {
	t.Helper()
	dbURL := testenv.DatabaseURL(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	defer pool.Close()
	require.NoError(t, Seed(context.Background(), pool))
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	jd := map[string]any{"host": u.Hostname(), "port": u.Port(), "database": strings.TrimPrefix(u.Path, "/"),
		"user": u.User.Username(), "sslMode": "disable", "queryTimeoutSeconds": 20}
	for k, v := range extra {
		jd[k] = v
	}
	b, err := json.Marshal(jd)
	require.NoError(t, err)
	pw, _ := u.User.Password()
	return PluginContext("sview-test", b, map[string]string{"password": pw}), dbURL
}

func start(t testing.TB) *Plugin {
	t.Helper()
	var log strings.Builder
	p, err := Start(binary, &log)
	require.NoError(t, err)
	t.Cleanup(func() {
		p.Close()
		if t.Failed() {
			t.Logf("plugin log:\n%s", log.String())
		}
	})
	return p
}

func query(refID, js string) backend.DataQuery {
	return backend.DataQuery{RefID: refID, JSON: json.RawMessage(js), Interval: time.Hour, MaxDataPoints: 43200,
		TimeRange: backend.TimeRange{From: SeedFrom, To: SeedTo}}
}

func TestPluginProcess(t *testing.T) {
	p := start(t)
	pc := seededContext(t, nil)
	ctx := context.Background()

	t.Run("CheckHealth", func(t *testing.T) {
		h, err := p.CheckHealth(ctx, pc)
		require.NoError(t, err)
		require.Equal(t, backend.HealthStatusOk, h.Status, h.Message)
		require.Contains(t, h.Message, "Database connected, schema version")
	})

	t.Run("QueryData", func(t *testing.T) {
		resp, err := p.QueryData(ctx, &backend.QueryDataRequest{PluginContext: pc, Queries: []backend.DataQuery{
			query("stats", `{"queryType":"stats","metric":"incidents","groupBy":"country"}`),
			query("preset", `{"queryType":"stats","preset":"top_passwords_by_usages_list","period":"1w"}`),
			query("greylist", `{"queryType":"greylist","minScore":4}`),
			query("leak", `{"queryType":"leak","prefix":"5BAA6"}`),
			query("status", `{"queryType":"status"}`),
			query("bad", `{"queryType":"stats","metric":"incidents","groupBy":"planet"}`),
		}})
		require.NoError(t, err)
		st := resp.Responses["stats"]
		require.NoError(t, st.Error)
		require.Len(t, st.Frames, 2)
		require.Equal(t, data.Labels{"country": "CZ"}, st.Frames[0].Fields[1].Labels)
		var cz int64
		for i := range st.Frames[0].Rows() {
			cz += st.Frames[0].Fields[1].At(i).(int64)
		}
		require.Equal(t, int64(21), cz)

		require.NoError(t, resp.Responses["preset"].Error)
		g := resp.Responses["greylist"]
		require.NoError(t, g.Error)
		require.Equal(t, 1, g.Frames[0].Rows())
		require.Equal(t, "192.0.2.1", g.Frames[0].Fields[0].At(0))
		l := resp.Responses["leak"]
		require.NoError(t, l.Error)
		require.Equal(t, int64(100), l.Frames[0].Fields[1].At(0))
		s := resp.Responses["status"]
		require.NoError(t, s.Error)
		require.Len(t, s.Frames, 3, "lag, cache and read replica frames")
		bad := resp.Responses["bad"]
		require.Error(t, bad.Error)
		require.Equal(t, backend.ErrorSourceDownstream, bad.ErrorSource)
		require.Contains(t, bad.Error.Error(), "groupBy")
	})

	t.Run("alert", func(t *testing.T) {
		resp, err := p.QueryData(ctx, &backend.QueryDataRequest{PluginContext: pc,
			Headers: map[string]string{backend.FromAlertHeaderName: "true", "X-Cache-Skip": "true", "X-Rule-Uid": "rule-1"},
			Queries: []backend.DataQuery{
				query("A", `{"queryType":"stats","metric":"attackers","groupBy":"country","filters":{"trap":["minipot_telnet"]}}`),
				query("B", `{"queryType":"stats","metric":"incidents","filters":{"country":["FR"]}}`),
				query("C", `{"queryType":"stats","metric":"incidents","filters":{"probe":["$probe"]}}`),
			}})
		require.NoError(t, err)
		a := resp.Responses["A"]
		require.NoError(t, a.Error)
		require.Len(t, a.Frames, 1)
		require.Equal(t, data.FrameTypeTimeSeriesMulti, a.Frames[0].Meta.Type)
		require.Equal(t, "CZ", a.Frames[0].Fields[1].Labels["country"])
		b := resp.Responses["B"]
		require.NoError(t, b.Error)
		require.Len(t, b.Frames, 1)
		for i := range b.Frames[0].Rows() {
			require.Equal(t, int64(0), b.Frames[0].Fields[1].At(i), "a filter matching nothing gives zeros")
		}
		c := resp.Responses["C"]
		require.Error(t, c.Error)
		require.Contains(t, c.Error.Error(), "$probe")
	})

	t.Run("CallResource", func(t *testing.T) {
		tests := []struct {
			path    string
			status  int
			contain string
		}{
			{"variables/traps?q=minipot", 200, `{"value":"minipot_ftp","text":"minipot_ftp"}`},
			{"variables/asns", 200, `"text":"AS64500 EXAMPLE-NET"`},
			{"greylist-latest.csv", 200, "Address,Tags\n192.0.2.1,\"ftp,telnet\"\n198.51.100.7,port_scan\n"},
			{"leak?sha1=5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8", 200, `"count":100`},
			{"leak?prefix=5b", 400, "at least 5"},
		}
		for _, tt := range tests {
			resp, err := p.CallResource(ctx, &backend.CallResourceRequest{PluginContext: pc, Method: http.MethodGet,
				Path: strings.SplitN(tt.path, "?", 2)[0], URL: tt.path})
			require.NoError(t, err, tt.path)
			require.Equal(t, tt.status, resp.Status, "%s: %s", tt.path, resp.Body)
			require.Contains(t, string(resp.Body), tt.contain, tt.path)
		}
	})

	t.Run("bad settings", func(t *testing.T) {
		bad := PluginContext("sview-bad", []byte(`{"host":"db","database":"x","user":"u","sslMode":"sometimes"}`), nil)
		h, err := p.CheckHealth(ctx, bad)
		// The SDK turns a failing instance factory into an error result or a call error.
		msg := ""
		if err != nil {
			msg = err.Error()
		} else {
			require.NotEqual(t, backend.HealthStatusOk, h.Status)
			msg = h.Message
		}
		require.Contains(t, msg, `invalid PostgreSQL TLS mode "sometimes": want one of disable`)
	})

	p.Close()
	require.Eventually(t, p.Exited, 10*time.Second, 50*time.Millisecond, "the plugin stops when Grafana closes it")
}

func TestDegradedRedisInProcess(t *testing.T) {
	p := start(t)
	pc := seededContext(t, map[string]any{"redisAddress": "127.0.0.1:1"})
	h, err := p.CheckHealth(context.Background(), pc)
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusOk, h.Status)
	require.Contains(t, h.Message, "Redis is unreachable")
	resp, err := p.QueryData(context.Background(), &backend.QueryDataRequest{PluginContext: pc, Queries: []backend.DataQuery{
		query("A", `{"queryType":"stats","metric":"incidents"}`)}})
	require.NoError(t, err)
	require.NoError(t, resp.Responses["A"].Error)
}
