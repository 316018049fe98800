package plugin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/query"
)

// livePath is the channel path the frontend builds (plugin/src/live.ts).
func livePath(login string, rate int, js string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	return "incidents/u" + b64([]byte(login)) + "/" + strconv.Itoa(rate) + "/" + b64([]byte(js))
}

func TestParseLivePath(t *testing.T) {
	s, err := parseLivePath(livePath("noc@example.org", 20, `{"filters":{"country":["cz"]},"exclude":{"trap":["fwlogs"]}}`))
	require.NoError(t, err)
	require.Equal(t, "noc@example.org", s.login)
	require.Equal(t, 20, s.rate)
	require.Equal(t, query.TypeLive, s.query.QueryType)
	require.Equal(t, []string{"CZ"}, s.query.Filters.Country)
	require.Equal(t, []string{"fwlogs"}, s.query.Exclude.Trap)

	for path, want := range map[string]string{
		"incidents":                                     "want incidents|counts/u<login>/<rate>/<query>",
		"logins/u/50/e30":                               "want incidents|counts/u<login>/<rate>/<query>",
		"incidents/x/50/e30":                            "want incidents|counts/u<login>/<rate>/<query>",
		"incidents/u/0/e30":                             `rate "0": want events per second from 1 to 1000`,
		"incidents/u/1001/e30":                          `rate "1001"`,
		"incidents/u/fast/e30":                          `rate "fast"`,
		"incidents/u/50/!!":                             "query: illegal base64",
		livePath("", 50, `[1]`):                         "query: want a JSON object",
		livePath("", 50, `{"filters":{"port":[22]}}`):   "filters.port",
		livePath("", 50, `{"queryType":"stats"}`):       "", // the path makes it a live query whatever it says
		livePath("", 50, `{"filters":{"trap":["x"]}}`):  "filters.trap",
		livePath("", 50, `{"filters":{"ip":["nope"]}}`): "filters.ip",
	} {
		_, err := parseLivePath(path)
		if want == "" {
			require.NoError(t, err, path)
			continue
		}
		require.ErrorContains(t, err, want, path)
	}
}

// packets is the SDK's StreamPacketSender for a test: the frames RunStream sent.
type packets struct {
	mu     sync.Mutex
	frames []*data.Frame
}

func (p *packets) Send(pk *backend.StreamPacket) error {
	var f data.Frame
	if err := json.Unmarshal(pk.Data, &f); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frames = append(p.frames, &f)
	return nil
}

// rows are the rows received so far, one map per row, and the last dropped count.
func (p *packets) rows() ([]map[string]any, int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	var dropped int64
	for _, f := range p.frames {
		for i := range f.Rows() {
			r := map[string]any{}
			for _, fl := range f.Fields {
				v, _ := fl.ConcreteAt(i)
				r[fl.Name] = v
			}
			out = append(out, r)
			if n, ok := r["dropped"].(int64); ok {
				dropped = n
			}
		}
	}
	return out, dropped
}

// runStream runs RunStream for u on path until the test ends.
func runStream(t *testing.T, d *Datasource, u *backend.User, path string) *packets {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &packets{}
	done := make(chan error, 1)
	go func() {
		done <- d.RunStream(ctx, &backend.RunStreamRequest{PluginContext: backend.PluginContext{User: u}, Path: path},
			backend.NewStreamSender(p))
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return p
}

func TestStreamHandler(t *testing.T) {
	_, pool := newSeeded(t, nil)
	d := readerDatasource(t, pool, testAccess(t, `{"scopes": [
		{"role": "Admin", "all": true},
		{"login": "noc", "asns": [64500]}
	]}`))
	ctx := context.Background()
	admin := &backend.User{Login: "admin", Role: "Admin"}
	noc := &backend.User{Login: "noc", Role: "Viewer"}
	subscribe := func(u *backend.User, path string) backend.SubscribeStreamStatus {
		t.Helper()
		r, err := d.SubscribeStream(ctx, &backend.SubscribeStreamRequest{PluginContext: backend.PluginContext{User: u}, Path: path})
		require.NoError(t, err)
		return r.Status
	}
	require.Equal(t, backend.SubscribeStreamStatusOK, subscribe(admin, livePath("admin", 50, `{}`)))
	require.Equal(t, backend.SubscribeStreamStatusOK, subscribe(noc, livePath("noc", 50, `{"filters":{"country":["CZ"]}}`)))
	require.Equal(t, backend.SubscribeStreamStatusPermissionDenied, subscribe(noc, livePath("admin", 50, `{}`)),
		"Grafana shares a channel's RunStream: another user's channel would show that user's scope")
	require.Equal(t, backend.SubscribeStreamStatusPermissionDenied, subscribe(noc, livePath("noc", 50, `{"filters":{"probe":[1]}}`)),
		"a probe's own data needs the probe")
	require.Equal(t, backend.SubscribeStreamStatusNotFound, subscribe(noc, livePath("noc", 0, `{}`)))
	require.Equal(t, backend.SubscribeStreamStatusNotFound, subscribe(noc, livePath("noc", 50, `{"filters":{"port":[22]}}`)))
	pub, err := d.PublishStream(ctx, &backend.PublishStreamRequest{Path: livePath("admin", 50, `{}`), Data: json.RawMessage(`{}`)})
	require.NoError(t, err)
	require.Equal(t, backend.PublishStreamStatusPermissionDenied, pub.Status)

	all := runStream(t, d, admin, livePath("admin", 50, `{}`))
	mine := runStream(t, d, noc, livePath("noc", 50, `{}`))
	slow := runStream(t, d, admin, livePath("admin", 2, `{"filters":{"trap":["minipot_ftp"]}}`))
	counts := runStream(t, d, noc, "counts"+strings.TrimPrefix(livePath("noc", 2, `{}`), "incidents"))
	require.Eventually(t, func() bool { return d.live.Subscribers() == 4 && d.live.Reads() > 0 }, 10*time.Second, 10*time.Millisecond)

	_, err = pool.Exec(ctx, `INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn) VALUES
		(now(), 1, 1, 'minipot_telnet', 'login', '192.0.2.1', 'CZ', 64500),
		(now() + interval '1 ms', 2, 2, 'minipot_http', 'connect', '198.51.100.1', 'DE', 64501)`)
	require.NoError(t, err)
	insertFTP(t, pool, 10)

	require.Eventually(t, func() bool { r, _ := all.rows(); return len(r) == 12 }, 5*time.Second, 10*time.Millisecond)
	rows, dropped := all.rows()
	require.Zero(t, dropped)
	require.Equal(t, "192.0.2.1", rows[0]["ip"])
	require.Equal(t, "CZ", rows[0]["country"])
	require.Equal(t, int64(64500), rows[0]["asn"])
	require.Equal(t, "EXAMPLE-NET", rows[0]["asn_name"], "geo_prefixes names the ASN")
	require.Equal(t, "0000000000000001", rows[0]["probe"], "an admin sees every probe's serial")
	require.Equal(t, "minipot_telnet", rows[0]["trap"])
	require.Equal(t, "login", rows[0]["action"])
	require.Equal(t, int64(2), rows[1]["incidents"])

	require.Eventually(t, func() bool { r, _ := mine.rows(); return len(r) == 11 }, 5*time.Second, 10*time.Millisecond)
	rows, _ = mine.rows()
	for _, r := range rows {
		require.Equal(t, int64(64500), r["asn"], "the operator sees its own ASN only")
		require.Equal(t, "", r["probe"], "and no probe's serial")
	}

	require.Eventually(t, func() bool { r, _ := slow.rows(); return len(r) == 2 }, 5*time.Second, 10*time.Millisecond)
	rows, dropped = slow.rows()
	require.Equal(t, int64(8), dropped, "two a second: the burst of ten keeps two")
	require.Equal(t, "minipot_ftp", rows[0]["trap"])

	// Counts are not rate-limited: the operator's 11 incidents, over a second or two.
	sum := func() int64 {
		r, _ := counts.rows()
		var n int64
		for _, row := range r {
			n += row["incidents"].(int64)
		}
		return n
	}
	require.Eventually(t, func() bool { return sum() == 11 }, 5*time.Second, 50*time.Millisecond)
	require.Equal(t, d.live.Connects(), int64(1), "four streams, one listener")
}

func insertFTP(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	_, err := pool.Exec(context.Background(), fmt.Sprintf(`INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
		SELECT now() + i * interval '1 ms' + interval '1 s', 1, 1, 'minipot_ftp', 'login', ('192.0.2.' || i)::inet, 'CZ', 64500
		FROM generate_series(1, %d) i`, n))
	require.NoError(t, err)
}

func TestLiveIsNotAQuery(t *testing.T) {
	d, _ := newSeeded(t, nil)
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{
		PluginContext: backend.PluginContext{User: &backend.User{Login: "admin", Role: "Admin"}},
		Queries:       []backend.DataQuery{dataQuery("A", `{"queryType":"live"}`)}})
	require.NoError(t, err)
	require.Equal(t, backend.StatusBadRequest, resp.Responses["A"].Status)
	require.ErrorContains(t, resp.Responses["A"].Error, "Grafana Live")
}
