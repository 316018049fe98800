package api

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sview-project/sview/internal/answer"
	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/leak"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/stats"
	"github.com/sview-project/sview/internal/store"
	"github.com/sview-project/sview/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sha1Hex(s string) string {
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// seed fills the tables the handlers read with a few known rows.
func seed(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	stmts := []string{
		`INSERT INTO identity (sn, device_token) VALUES ('0000000000000001', repeat('ab', 32)), ('0000000000000002', repeat('cd', 32))`,
		`INSERT INTO geo_prefixes (network, asn, country, as_name) VALUES
			('192.0.2.0/24', 64500, 'CZ', 'EXAMPLE-NET'), ('198.51.100.0/24', 64501, 'DE', 'OTHER-NET'), ('203.0.113.0/24', 64502, 'US', NULL)`,
		`INSERT INTO greylist (ip, tags, score, probes, incidents, country) VALUES
			('192.0.2.1', '{ftp,telnet}', 5, 5, 100, 'CZ'), ('198.51.100.7', '{port_scan}', 3, 3, 10, 'DE')`,
		`INSERT INTO greylist_history (day, ip, tags, score, probes) VALUES ('2026-11-01', '192.0.2.1', '{telnet}', 4, 4)`,
		// one login attempt on probe 2, for raw events
		`INSERT INTO passwords (time, username, password, identity_id, trap, ip, country, asn)
			VALUES ('2026-11-22T10:00:00Z', 'root', '123456', 2, 'minipot_telnet', '192.0.2.1', 'CZ', 64500)`,
	}
	for _, s := range stmts {
		_, err := pool.Exec(ctx, s)
		require.NoError(t, err, s)
	}
	for pw, count := range map[string]int{"password": 100, "123456": 50, "hunter2": 3} {
		h, _ := hex.DecodeString(sha1Hex(pw))
		_, err := pool.Exec(ctx, `INSERT INTO passwords_pwned (hash, count, sources) VALUES ($1, $2, '{telnet,http}')`, h, count)
		require.NoError(t, err)
	}
}

// countingEngine answers every stats query with a small time series or table.
type countingEngine struct{ runs int }

func (e *countingEngine) Run(_ context.Context, q query.Query, _ period.Range) (data.Frames, time.Time, error) {
	e.runs++
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	switch {
	case q.Format == query.FormatMap:
		return data.Frames{data.NewFrame("m", data.NewField("country", nil, []string{"CZ", "DE"}), data.NewField("value", nil, []int64{7, 3}))}, t0, nil
	case q.Format == query.FormatTable:
		return data.Frames{data.NewFrame("t", data.NewField("trap", nil, []string{"minipot_telnet"}), data.NewField("action", nil, []string{"login"}), data.NewField("value", nil, []int64{9}))}, t0, nil
	case len(q.GroupBy) == 0:
		return data.Frames{data.NewFrame("s", data.NewField("time", nil, []time.Time{t0, t0.Add(time.Hour)}), data.NewField("value", nil, []int64{1, 2}))}, t0, nil
	}
	var fr data.Frames
	for i, c := range []string{"CZ", "DE"} {
		fr = append(fr, data.NewFrame("s", data.NewField("time", nil, []time.Time{t0}), data.NewField("value", data.Labels{q.GroupBy.String(): c}, []int64{int64(10 - i)})))
	}
	return fr, t0, nil
}

type fixture struct {
	srv *httptest.Server
	eng *countingEngine
}

// readerPool opens a pool on admin's database as the sview_reader role, the role `sview serve`
// and the plugin are given.
func readerPool(t *testing.T, admin *pgxpool.Pool) *pgxpool.Pool {
	t.Helper()
	cfg := admin.Config().Copy()
	cfg.ConnConfig.RuntimeParams["role"] = "sview_reader"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// Device tokens of the seeded probes 1 and 2.
var (
	token1 = strings.Repeat("ab", 32)
	token2 = strings.Repeat("cd", 32)
)

func newFixture(t *testing.T, limits Limits) fixture {
	t.Helper()
	admin := testenv.Pool(t)
	seed(t, admin)
	pool := readerPool(t, admin)
	c, err := cache.New(cache.Options{Backend: mustMemory(t)})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	eng := &countingEngine{}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "sview_test_total", Help: "test"}))
	st := stats.New(stats.Config{DB: pool, Cache: c, Engine: eng})
	srv := httptest.NewServer(Public(Deps{DB: pool, Stats: st, Answers: &answer.Service{Stats: st, DB: pool}, Gatherer: reg, Limits: limits}))
	t.Cleanup(srv.Close)
	return fixture{srv: srv, eng: eng}
}

func mustMemory(t *testing.T) cache.Backend {
	m, err := cache.NewMemory(100)
	require.NoError(t, err)
	return m
}

func (f fixture) do(t *testing.T, method, path, contentType, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return send(t, req, hdr...)
}

// send adds the header pairs (name, value, …) to req, sends it and reads the whole body.
func send(t *testing.T, req *http.Request, hdr ...string) (*http.Response, string) {
	t.Helper()
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestPublicAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{Rate: -1})
	pw := sha1Hex("password")
	tests := []struct {
		name        string
		method      string
		path        string
		ctype       string
		body        string
		hdr         []string
		wantStatus  int
		wantJSON    string // compared as JSON when set
		wantContain []string
	}{
		{name: "passcheck hit", method: "POST", path: "/passcheck/apiv1/", ctype: "application/json",
			body: `{"msg_type":"request","hash":"` + pw[:6] + `"}`, wantStatus: 200,
			wantJSON: `{"msg_type":"response","status":"SUCCESS","data":[{"hash":"` + pw + `","count":100,"sources":["telnet","http"]}]}`},
		{name: "passcheck miss", method: "POST", path: "/passcheck/apiv1/", ctype: "application/json",
			body: `{"msg_type":"request","hash":"000000"}`, wantStatus: 200, wantJSON: `{"msg_type":"response","status":"NO_QUERY"}`},
		{name: "passcheck non-hex letters match nothing", method: "POST", path: "/passcheck/apiv1/", ctype: "application/json",
			body: `{"msg_type":"request","hash":"zzzzzz"}`, wantStatus: 200, wantJSON: `{"msg_type":"response","status":"NO_QUERY"}`},
		{name: "passcheck full hash", method: "POST", path: "/passcheck/apiv1/", ctype: "application/json",
			body: `{"msg_type":"request","hash":"` + pw + `"}`, wantStatus: 400, wantContain: []string{`"status":"VALIDATION_ERROR"`, `does not match`}},
		{name: "passcheck extra field", method: "POST", path: "/passcheck/apiv1/", ctype: "application/json",
			body: `{"msg_type":"request","hash":"abcdef","x":1}`, wantStatus: 400, wantContain: []string{`Additional properties are not allowed`}},
		{name: "passcheck GET", method: "GET", path: "/passcheck/apiv1/", wantStatus: 400,
			wantJSON: `{"API error":"Invalid HTTP method for URL Please use the POST method."}`},
		{name: "passcheck not JSON", method: "POST", path: "/passcheck/apiv1/", ctype: "text/plain", body: "hash=abcdef", wantStatus: 400,
			wantJSON: `{"API error":"Invalid HTTP method for URL Please use the POST method."}`},
		{name: "range", method: "GET", path: "/range/" + strings.ToUpper(pw[:5]), wantStatus: 200,
			wantContain: []string{strings.ToUpper(pw[5:]) + ":100\r\n"}},
		{name: "range lowercase", method: "GET", path: "/range/" + pw[:5], wantStatus: 200, wantContain: []string{strings.ToUpper(pw[5:]) + ":100\r\n"}},
		{name: "range bad prefix", method: "GET", path: "/range/12345G", wantStatus: 400, wantContain: []string{"5 hex characters"}},
		{name: "greylist latest", method: "GET", path: "/greylist-latest.csv", wantStatus: 200,
			wantContain: []string{"# For the terms of use", "Address,Tags\n", `192.0.2.1,"ftp,telnet"`, "198.51.100.7,port_scan"}},
		{name: "greylist archive", method: "GET", path: "/greylist/2026-11-01.csv", wantStatus: 200, wantContain: []string{"192.0.2.1,telnet"}},
		{name: "greylist archive missing day", method: "GET", path: "/greylist/2026-10-01.csv", wantStatus: 404, wantContain: []string{"no greylist snapshot for 2026-10-01"}},
		{name: "greylist archive bad name", method: "GET", path: "/greylist/latest.csv", wantStatus: 400, wantContain: []string{"want YYYY-MM-DD.csv"}},
		{name: "leak by password in the URL", method: "GET", path: "/leak?password=hunter2", wantStatus: 400,
			wantContain: []string{"a password never goes in a URL"}},
		{name: "leak by password in a body", method: "POST", path: "/leak", ctype: "application/x-www-form-urlencoded",
			body: "password=hunter2", wantStatus: 200,
			wantJSON: `[{"hash":"` + sha1Hex("hunter2") + `","count":3,"sources":["telnet","http"]}]`},
		{name: "leak POST with a query string", method: "POST", path: "/leak?password=hunter2", ctype: "application/x-www-form-urlencoded",
			wantStatus: 400, wantContain: []string{"not in the URL"}},
		{name: "leak by sha1 unknown", method: "GET", path: "/leak?sha1=" + sha1Hex("nope"), wantStatus: 200, wantJSON: `[]`},
		{name: "leak short prefix", method: "GET", path: "/leak?prefix=abc", wantStatus: 400, wantContain: []string{"at least 5"}},
		{name: "leak two params", method: "GET", path: "/leak?prefix=abcde&sha1=x", wantStatus: 400, wantContain: []string{"exactly one"}},
		{name: "variables countries", method: "GET", path: "/variables/countries", wantStatus: 200,
			wantJSON: `[{"value":"CZ","text":"CZ"},{"value":"DE","text":"DE"},{"value":"US","text":"US"}]`},
		{name: "variables asns filtered", method: "GET", path: "/variables/asns?q=example", wantStatus: 200,
			wantJSON: `[{"value":"64500","text":"AS64500 EXAMPLE-NET"}]`},
		{name: "variables asns without name", method: "GET", path: "/variables/asns?q=64502", wantStatus: 200,
			wantJSON: `[{"value":"64502","text":"AS64502"}]`},
		{name: "variables probes lists none without a token", method: "GET", path: "/variables/probes", wantStatus: 200, wantJSON: `[]`},
		{name: "variables probes lists the proven ones", method: "GET", path: "/variables/probes", hdr: []string{DeviceTokenHeader, token2},
			wantStatus: 200, wantJSON: `[{"value":"2","text":"0000000000000002 #2"}]`},
		{name: "variables probes with a wrong token", method: "GET", path: "/variables/probes", hdr: []string{DeviceTokenHeader, strings.Repeat("0", 64)},
			wantStatus: 403, wantContain: []string{"no probe has this device token"}},
		{name: "variables periods", method: "GET", path: "/variables/periods?q=month", wantStatus: 200,
			wantJSON: `[{"value":"1m","text":"Month"},{"value":"3m","text":"3 Months"}]`},
		{name: "variables tags include built and imported", method: "GET", path: "/variables/tags?q=port", wantStatus: 200,
			wantJSON: `[{"value":"port_scan","text":"port_scan"}]`},
		{name: "variables bad kind", method: "GET", path: "/variables/planets", wantStatus: 400, wantContain: []string{"want one of probes"}},
		{name: "resource graph", method: "GET", path: "/api/resource?name=all_incidents_graph&period=1w", wantStatus: 200,
			wantJSON: `{"resource_name":"all_incidents_graph","data":[{"bucket":"2026-11-22 10:00","count":1},{"bucket":"2026-11-22 11:00","count":2}]}`},
		{name: "resource multiline", method: "GET", path: "/api/resource?name=top_countries_by_incidents_graph&period=1d", wantStatus: 200,
			wantJSON: `{"resource_name":"top_countries_by_incidents_graph","data":{"labels":["CZ","DE"],"ykeys":[0,1],"data":[{"bucket":"2026-11-22 10:00","0":10,"1":9}]}}`},
		{name: "resource map", method: "GET", path: "/api/resource?name=all_countries_by_incidents_list", wantStatus: 200,
			wantJSON: `{"resource_name":"all_countries_by_incidents_list","data":{"CZ":7,"DE":3}}`},
		{name: "resource list", method: "GET", path: "/api/resource?name=top_incident_types_by_incidents_list&period=1m", wantStatus: 200,
			wantJSON: `{"resource_name":"top_incident_types_by_incidents_list","data":[{"source":"minipot_telnet","action":"login","count":9}]}`},
		{name: "resource of my probes without a token", method: "GET", path: "/api/resource?name=my_all_incidents_graph&period=1w",
			wantStatus: 403, wantContain: []string{"send their device tokens in the X-Device-Token header"}},
		{name: "resource of a probe by id", method: "GET", path: "/api/resource?name=my_all_incidents_graph&probe=1", wantStatus: 400,
			wantContain: []string{"probes are not named by id"}},
		{name: "resource of a probe by a token in the URL", method: "GET", path: "/api/resource?name=my_all_incidents_graph&token=" + token1,
			wantStatus: 403, wantContain: []string{"never goes in the URL"}},
		{name: "resource of my probe by header", method: "GET", path: "/api/resource?name=my_all_incidents_graph&period=1w",
			hdr: []string{DeviceTokenHeader, token1}, wantStatus: 200, wantContain: []string{`"resource_name":"my_all_incidents_graph"`}},
		{name: "resource of my probe by body", method: "POST", path: "/api/resource", ctype: "application/x-www-form-urlencoded",
			body: "name=my_all_incidents_graph&period=1w&device_token=" + token1, wantStatus: 200,
			wantContain: []string{`"resource_name":"my_all_incidents_graph"`}},
		{name: "resource unknown", method: "GET", path: "/api/resource?name=nope", wantStatus: 400, wantContain: []string{`{"error":"unknown resource \"nope\"`}},
		{name: "resource bad period", method: "GET", path: "/api/resource?name=all_incidents_graph&period=2w", wantStatus: 400, wantContain: []string{`invalid period \"2w\"`}},
		{name: "healthz", method: "GET", path: "/healthz", wantStatus: 200, wantJSON: `{"status":"ok","database":"ok","cache":{"backend":"memory","degraded":false}}`},
		{name: "metrics", method: "GET", path: "/metrics", wantStatus: 200, wantContain: []string{"sview_test_total 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.do(t, tt.method, tt.path, tt.ctype, tt.body, tt.hdr...)
			require.Equal(t, tt.wantStatus, resp.StatusCode, body)
			if tt.wantJSON != "" {
				require.JSONEq(t, tt.wantJSON, body)
			}
			for _, c := range tt.wantContain {
				require.Contains(t, body, c)
			}
		})
	}
}

func TestRangePadding(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{Rate: -1})
	pw := sha1Hex("password")
	resp, body := f.do(t, "GET", "/range/"+pw[:5], "", "", "Add-Padding", "true")
	require.Equal(t, 200, resp.StatusCode)
	lines := strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n")
	require.GreaterOrEqual(t, len(lines), 800)
	require.Contains(t, lines, strings.ToUpper(pw[5:])+":0000000100")
	zero := 0
	for _, l := range lines {
		if strings.HasSuffix(l, ":0000000000") {
			zero++
		}
	}
	require.Equal(t, len(lines)-1, zero, "padding lines carry count 0")
}

func TestResourceIsCached(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{Rate: -1})
	for range 3 {
		resp, _ := f.do(t, "GET", "/api/resource?name=all_attackers_graph&period=1h", "", "")
		require.Equal(t, 200, resp.StatusCode)
		require.Equal(t, "max-age=30", resp.Header.Get("Cache-Control"))
	}
	require.Equal(t, 1, f.eng.runs)
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{Rate: 1, Burst: 3})
	for i := range 3 {
		resp, _ := f.do(t, "GET", "/variables/traps", "", "")
		require.Equal(t, 200, resp.StatusCode, "request %d is within the burst", i)
	}
	resp, body := f.do(t, "GET", "/variables/traps", "", "")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, "1", resp.Header.Get("Retry-After"))
	require.Contains(t, body, "too many requests")
}

func TestLimiterRefillsAndSeparatesClients(t *testing.T) {
	l := NewLimiter(Limits{Rate: 2, Burst: 1})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	_, ok := l.allow("192.0.2.1")
	require.True(t, ok)
	wait, ok := l.allow("192.0.2.1")
	require.False(t, ok)
	require.Equal(t, 500*time.Millisecond, wait)
	_, ok = l.allow("192.0.2.2")
	require.True(t, ok, "another client has its own bucket")
	now = now.Add(500 * time.Millisecond)
	_, ok = l.allow("192.0.2.1")
	require.True(t, ok, "a token came back")
	now = now.Add(time.Hour)
	_, _ = l.allow("192.0.2.3")
	require.Len(t, l.clients, 1, "idle clients are swept")
}

func TestBodySizeLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{Rate: -1, MaxBodyBytes: 64})
	big := `{"msg_type":"request","hash":"abcdef","pad":"` + strings.Repeat("x", 100) + `"}`
	resp, body := f.do(t, "POST", "/passcheck/apiv1/", "application/json", big)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	require.Contains(t, body, "larger than 64 bytes")

	// A chunked body has no Content-Length: MaxBytesReader stops it while reading.
	req, err := http.NewRequest("POST", f.srv.URL+"/passcheck/apiv1/", io.MultiReader(strings.NewReader(big)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = -1
	r2, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer r2.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, r2.StatusCode)
}

func TestParsePasscheckMessages(t *testing.T) {
	tests := []struct{ body, want string }{
		{`[]`, "not a JSON object"},
		{`null`, "not a JSON object"},
		{`{"hash":"abcdef"}`, "'msg_type' is a required property"},
		{`{"msg_type":"request"}`, "'hash' is a required property"},
		{`{"msg_type":"reply","hash":"abcdef"}`, `"reply" is not one of ['request']`},
		{`{"msg_type":"request","hash":12}`, "hash: 12 is not of type 'string'"},
		{`{"msg_type":"request","hash":"ABCDEF"}`, "does not match"},
		{`{"msg_type":"request","hash":"abcdef"} {}`, "trailing data"},
	}
	for _, tt := range tests {
		_, err := ParsePasscheck([]byte(tt.body))
		require.ErrorIs(t, err, ErrPasscheck, tt.body)
		require.Contains(t, err.Error(), tt.want, tt.body)
	}
	got, err := ParsePasscheck([]byte(`{"hash":"e5e9fa","msg_type":"request"}`))
	require.NoError(t, err)
	require.Equal(t, "e5e9fa", got)
}

func TestHealthzDegradedCache(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t)
	r, err := cache.NewRedis(cache.RedisConfig{Addrs: []string{"127.0.0.1:1"}})
	require.NoError(t, err)
	c, err := cache.New(cache.Options{Backend: r})
	require.NoError(t, err)
	defer c.Close()
	h := Deps{DB: pool, Stats: stats.New(stats.Config{DB: pool, Cache: c, Engine: &countingEngine{}})}.CheckHealth(context.Background())
	b, _ := json.Marshal(h)
	require.JSONEq(t, `{"status":"degraded","database":"ok","cache":{"backend":"redis","degraded":true}}`, string(b),
		"categories only: no Redis address or error text")
}

// fixedReplica reports a replica state, as store.Reads would.
type fixedReplica store.ReplicaStatus

func (f fixedReplica) Status(context.Context) store.ReplicaStatus { return store.ReplicaStatus(f) }

func TestHealthzReplica(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t)
	for _, tc := range []struct {
		name string
		rs   store.ReplicaStatus
		want string
	}{
		{"none configured", store.ReplicaStatus{}, `{"status":"ok","database":"ok"}`},
		{"up", store.ReplicaStatus{Configured: true, Reachable: true, LagSeconds: 1.5},
			`{"status":"ok","database":"ok","replica":{"reachable":true,"reading_primary":false,"lag_seconds":1.5}}`},
		{"lagging", store.ReplicaStatus{Configured: true, Reachable: true, LagSeconds: 45},
			`{"status":"degraded","database":"ok","replica":{"reachable":true,"reading_primary":false,"lag_seconds":45}}`},
		{"down, reads on the primary", store.ReplicaStatus{Configured: true, ReadingPrimary: true, LastError: "refused"},
			`{"status":"degraded","database":"ok","replica":{"reachable":false,"reading_primary":true,"lag_seconds":0}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(Deps{DB: pool, Replica: fixedReplica(tc.rs)}.CheckHealth(context.Background()))
			require.NoError(t, err)
			require.JSONEq(t, tc.want, string(b), "no address or error text")
		})
	}
}

// recordingLogger keeps what the handlers log.
type recordingLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *recordingLogger) Error(msg string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSpace(fmt.Sprintln(append([]any{msg}, args...)...)))
}

// TestOutage: with the database down, /healthz and every query answer 503 with Retry-After and
// categories only, and a thousand failing requests log two lines, not a thousand.
func TestOutage(t *testing.T) {
	t.Parallel()
	down, err := pgxpool.New(context.Background(), "postgres://sview:secret@127.0.0.1:1/sviewdb?connect_timeout=1")
	require.NoError(t, err)
	defer down.Close()
	c, err := cache.New(cache.Options{Backend: mustMemory(t)})
	require.NoError(t, err)
	defer c.Close()
	logs := &recordingLogger{}
	srv := httptest.NewServer(Public(Deps{DB: down, Stats: stats.New(stats.Config{DB: down, Cache: c, Engine: &countingEngine{}}),
		Logger: logs, Limits: Limits{Rate: -1}}))
	defer srv.Close()
	f := fixture{srv: srv}

	resp, body := f.do(t, "GET", "/healthz", "", "")
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "30", resp.Header.Get("Retry-After"))
	require.JSONEq(t, `{"status":"error","database":"unreachable","cache":{"backend":"memory","degraded":false}}`, body)
	for range 1000 {
		resp, body = f.do(t, "GET", "/variables/asns", "", "")
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, body)
		require.Equal(t, "30", resp.Header.Get("Retry-After"))
	}
	for _, secret := range []string{"sview", "secret", "sviewdb", "127.0.0.1"} {
		require.NotContains(t, body, secret)
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	require.Len(t, logs.lines, 2, "one line per kind (healthz, variables) and minute: %q", logs.lines)
}

func TestErrorLogCounts(t *testing.T) {
	logs := &recordingLogger{}
	l := newErrorLog(logs)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	for range 5 {
		l.log("db", "down", io.EOF)
	}
	l.log("other", "broken", io.EOF)
	now = now.Add(errorLogInterval)
	l.log("db", "down", io.EOF)
	require.Equal(t, []string{
		"down kind db count 1 per 1m0s err EOF",
		"broken kind other count 1 per 1m0s err EOF",
		"down kind db count 5 per 1m0s err EOF",
	}, logs.lines, "the line after the interval counts the four kept back and itself")
}

func TestRangeModesAndPaddedSize(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{Rate: -1})
	resp, body := f.do(t, "GET", "/range/5BAA6?mode=ntlm", "", "")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, body, "only mode=sha1")
	resp, _ = f.do(t, "GET", "/range/5BAA6?mode=sha1", "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// A prefix holding a popular hash and one holding nothing: the same line length, so the
	// size is a multiple of it either way.
	const line = 35 + 1 + leak.PadCountWidth + 2
	for _, prefix := range []string{strings.ToUpper(sha1Hex("password")[:5]), "00000"} {
		for range 5 {
			resp, body := f.do(t, "GET", "/range/"+prefix, "", "", "Add-Padding", "true")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Zero(t, len(body)%line, prefix)
			n := len(body) / line
			require.True(t, n >= leak.PadMin && n <= leak.PadMax, "%s: %d lines", prefix, n)
		}
	}
}
