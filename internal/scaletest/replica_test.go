package scaletest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/aggregator"
	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/devserver"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/stats"
	"github.com/sview-project/sview/internal/store"
	"github.com/sview-project/sview/migrations"
	"github.com/sview-project/sview/plugin/pkg/plugin"
)

// chownPostgres gives dir to the postgres system user when we are root, so pg_basebackup
// (which runs as that user) can write into it.
func chownPostgres(t *testing.T, dir string) {
	if os.Geteuid() != 0 {
		return
	}
	u, err := user.Lookup("postgres")
	require.NoError(t, err)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	require.NoError(t, os.Chown(dir, uid, gid))
}

// asPostgres runs a PostgreSQL program, as the postgres user when we are root.
func asPostgres(name string, args ...string) *exec.Cmd {
	bin := filepath.Join("/usr/lib/postgresql/15/bin", name)
	if os.Geteuid() != 0 {
		return exec.Command(bin, args...) // #nosec G204 -- PostgreSQL's own programs
	}
	return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...) // #nosec G204 -- as above
}

// waitReplayed waits until the replica has replayed everything the primary wrote so far and
// returns how long that took.
func waitReplayed(t *testing.T, primary, replica *pgxpool.Pool) time.Duration {
	ctx := context.Background()
	t0 := time.Now()
	var lsn string
	require.NoError(t, primary.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn))
	for {
		var done bool
		require.NoError(t, replica.QueryRow(ctx, "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", lsn).Scan(&done))
		if done {
			return time.Since(t0)
		}
		require.Less(t, time.Since(t0), time.Minute, "the replica did not replay the primary's WAL")
		time.Sleep(5 * time.Millisecond)
	}
}

// total sums every numeric value of the frames: the incidents a stats answer counts.
func total(frames data.Frames) float64 {
	sum := 0.0
	for _, f := range frames {
		for _, fl := range f.Fields {
			for i := range fl.Len() {
				if v, err := fl.FloatAt(i); err == nil && fl.Type().Numeric() {
					sum += v
				}
			}
		}
	}
	return sum
}

// TestReadReplica runs sview's readers against a real streaming replica of a real primary:
// answers follow the replica's own watermark, its lag shows everywhere the issue asks, writes
// and rollups of the primary reach the answers without a restart, and a stopped replica sends
// reads to the primary (or fails them clearly with the fallback off).
func TestReadReplica(t *testing.T) {
	enabled(t)
	ctx := ctxTimeout(t, 8*time.Minute)
	dir := t.TempDir()
	pport, err := devserver.FreePort()
	require.NoError(t, err)
	primary, err := devserver.Postgres(ctx, filepath.Join(dir, "primary"), pport)
	require.NoError(t, err)
	t.Cleanup(func() { _ = primary.Stop() })
	require.NoError(t, migrations.Up(primary.URL))

	rdir := filepath.Join(dir, "replica")
	require.NoError(t, mkdir(rdir))
	chownPostgres(t, rdir)
	t0 := time.Now()
	out, err := asPostgres("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(pport), "-U", "postgres",
		"-D", filepath.Join(rdir, "data"), "-R", "-X", "stream", "-c", "fast").CombinedOutput()
	require.NoError(t, err, "%s", out)
	rport, err := devserver.FreePort()
	require.NoError(t, err)
	replicaSrv, err := devserver.Postgres(ctx, rdir, rport) // the base backup's standby.signal makes it a standby
	require.NoError(t, err)
	replicaUp := true
	t.Cleanup(func() {
		if replicaUp {
			_ = replicaSrv.Stop()
		}
	})
	figure(t, "replica set up", "pg_basebackup and standby start in %s", time.Since(t0).Round(time.Millisecond))

	primaryPool, err := pgxpool.New(ctx, primary.URL)
	require.NoError(t, err)
	t.Cleanup(primaryPool.Close)
	replicaPool, err := pgxpool.New(ctx, replicaSrv.URL)
	require.NoError(t, err)
	t.Cleanup(replicaPool.Close)
	var standby bool
	require.NoError(t, replicaPool.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&standby))
	require.True(t, standby, "the replica is a standby")

	// Five hours of raw rows, one a minute; the aggregator first rolls up to two hours ago.
	now := time.Now().UTC()
	_, err = primaryPool.Exec(ctx, `INSERT INTO identity (id, sn, device_token) VALUES (1, '0000000000000001', repeat('ab', 32))`)
	require.NoError(t, err)
	_, err = primaryPool.Exec(ctx, `INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip)
		SELECT $1::timestamptz - interval '5 hours' + g * interval '1 minute', 1, 1, 'minipot_telnet', 'login', '192.0.2.1'
		FROM generate_series(0, 299) g`, now)
	require.NoError(t, err)
	rollup := func(at time.Time) {
		m, err := aggregator.New(primaryPool, aggregator.Config{Now: func() time.Time { return at },
			Registerer: prometheus.NewRegistry()})
		require.NoError(t, err)
		require.NoError(t, m.CatchUp(ctx, period.Quarterly))
	}
	rollup(now.Add(-2 * time.Hour))
	lag := waitReplayed(t, primaryPool, replicaPool)
	figure(t, "replication delay", "a rollup committed on the primary was replayed on the replica %s later", lag.Round(time.Millisecond))

	reads, err := store.NewReads(primaryPool, replicaPool, store.FallbackPrimary)
	require.NoError(t, err)
	c, err := cache.Open(nil, cache.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	svc := stats.New(stats.Config{DB: reads, Cache: c})
	q, err := query.Parse([]byte(`{"queryType":"stats","metric":"incidents","period":"6h"}`))
	require.NoError(t, err)
	key := rollupstate.Key{Table: q.Table(), Precision: period.Quarterly}
	watermark := func(pool *pgxpool.Pool) time.Time {
		wm, ok, err := rollupstate.ReadWatermark(ctx, pool, key)
		require.NoError(t, err)
		require.True(t, ok)
		return wm
	}
	res, err := svc.Query(ctx, q, period.Range{}, false)
	require.NoError(t, err)
	require.Equal(t, cache.StateMiss, res.State)
	wm1, total1 := watermark(replicaPool), total(res.Frames)
	require.True(t, res.Watermark.Equal(wm1), "the answer carries the replica's watermark")
	require.Positive(t, total1)

	// The plugin and `sview serve`, both reading from the replica.
	pcfg := primaryPool.Config().ConnConfig
	jsonData, err := json.Marshal(map[string]any{"host": pcfg.Host, "port": pcfg.Port, "database": pcfg.Database,
		"user": pcfg.User, "sslMode": "disable", "readReplicaUrl": replicaSrv.URL})
	require.NoError(t, err)
	set, err := plugin.LoadSettings(ctx, backend.DataSourceInstanceSettings{JSONData: jsonData})
	require.NoError(t, err)
	ds, err := plugin.New(set, log.DefaultLogger, prometheus.NewRegistry())
	require.NoError(t, err)
	t.Cleanup(ds.Dispose)
	sport, err := devserver.FreePort()
	require.NoError(t, err)
	base := "http://127.0.0.1:" + strconv.Itoa(sport)
	env := []string{"SVIEW_DATABASE_URL=" + primary.URL, "SVIEW_READ_DATABASE_URL=" + replicaSrv.URL}
	serve := start(t, filepath.Join(dir, "serve.log"), env, sviewBinary(t), "serve", "--listen", "127.0.0.1:"+strconv.Itoa(sport), "--rate", "-1")
	waitHTTP(t, base+"/healthz", serve)

	// Replay paused: the primary takes late rows and rolls up two more hours; the replica
	// does not see them.
	_, err = replicaPool.Exec(ctx, "SELECT pg_wal_replay_pause()")
	require.NoError(t, err)
	paused := time.Now()
	_, err = primaryPool.Exec(ctx, `INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip)
		SELECT $1::timestamptz - interval '3 hours' + g * interval '1 minute', 5, 1, 'minipot_telnet', 'login', '192.0.2.9'
		FROM generate_series(0, 9) g`, now)
	require.NoError(t, err)
	rollup(now)
	wm2 := watermark(primaryPool)
	require.True(t, wm2.After(wm1), "the primary's watermark moved")
	require.True(t, watermark(replicaPool).Equal(wm1), "the paused replica still has the old watermark")
	time.Sleep(3 * time.Second) // past the service's watermark cache
	res, err = svc.Query(ctx, q, period.Range{}, false)
	require.NoError(t, err)
	require.Equal(t, cache.StateHit, res.State, "the replica's watermark did not move: the entry stays current for it")
	require.Equal(t, total1, total(res.Frames))
	require.False(t, res.Watermark.After(watermark(replicaPool)), "a cached answer is never newer than the rows it came from")

	// Lag beyond store.MaxReplicaLag: the answers and every status surface say so.
	for !reads.Status(ctx).Lagging() {
		require.Less(t, time.Since(paused), 2*time.Minute, "the paused replica never counted as lagging")
		time.Sleep(500 * time.Millisecond)
	}
	st := reads.Status(ctx)
	figure(t, "lag observed", "replay paused %s ago: replica lag %.1f s (warned above %s)", time.Since(paused).Round(time.Second), st.LagSeconds, store.MaxReplicaLag)
	dq := backend.DataQuery{RefID: "A", JSON: json.RawMessage(`{"queryType":"stats","metric":"incidents","period":"6h"}`), Interval: time.Minute,
		TimeRange: backend.TimeRange{From: now.Add(-6 * time.Hour), To: now}}
	resp, err := ds.QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{dq}})
	require.NoError(t, err)
	require.NoError(t, resp.Responses["A"].Error)
	require.Contains(t, noticesOf(resp.Responses["A"].Frames), "behind the primary", "the panel is told it reads a lagging replica")
	h, err := ds.CheckHealth(ctx, &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusOk, h.Status)
	require.Contains(t, h.Message, "the read replica is")
	promLag := metric(t, base+"/metrics", "sview_read_replica_lag_seconds")
	require.Greater(t, promLag, store.MaxReplicaLag.Seconds())
	healthz := get(t, base+"/healthz")
	require.Contains(t, healthz, `"status":"degraded"`)
	cmd := exec.Command(sviewBinary(t), "status") // #nosec G204 -- the binary this test built
	cmd.Env = append(os.Environ(), env...)
	statusOut, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", statusOut)
	require.Contains(t, string(statusOut), "READ REPLICA")
	figure(t, "lag shown", "plugin CheckHealth %q; /metrics sview_read_replica_lag_seconds %.1f; /healthz %s; sview status: %s",
		h.Message, promLag, strings.TrimSpace(healthz), replicaLine(string(statusOut)))

	// Replay resumed: the late rows and the new rollups reach the answers, no restart.
	_, err = replicaPool.Exec(ctx, "SELECT pg_wal_replay_resume()")
	require.NoError(t, err)
	resumed := time.Now()
	catchUp := waitReplayed(t, primaryPool, replicaPool)
	direct, err := stats.New(stats.Config{DB: primaryPool, Cache: mustMemoryCache(t)}).Query(ctx, q, period.Range{}, true)
	require.NoError(t, err)
	total2 := total(direct.Frames)
	require.Greater(t, total2, total1)
	var reached time.Duration
	for reached == 0 {
		res, err = svc.Query(ctx, q, period.Range{}, false)
		require.NoError(t, err)
		if res.Watermark.Equal(wm2) && total(res.Frames) == total2 {
			reached = time.Since(resumed)
		}
		require.Less(t, time.Since(resumed), time.Minute, "the replica's answers never caught up")
		time.Sleep(100 * time.Millisecond)
	}
	figure(t, "catch-up", "replay resumed: WAL replayed in %s; the answer had the late rows and the new watermark %s after the resume (stale-while-revalidate, no restart); total %.0f -> %.0f",
		catchUp.Round(time.Millisecond), reached.Round(time.Millisecond), total1, total2)

	// The replica stopped: reads go to the primary; with the fallback off they fail clearly.
	require.NoError(t, replicaSrv.Stop())
	replicaUp = false
	stopped := time.Now()
	answered := 0
	for range 20 {
		res, err := svc.Query(ctx, q, period.Range{}, true) // skip the cache read: a real database read each time
		require.NoError(t, err, "reads fall back to the primary")
		require.Equal(t, total2, total(res.Frames))
		answered++
	}
	st = reads.Status(ctx)
	require.True(t, st.ReadingPrimary)
	// The plugin's own check of the replica may be up to store.ReplicaCheckEvery old.
	for {
		h, err = ds.CheckHealth(ctx, &backend.CheckHealthRequest{})
		require.NoError(t, err)
		require.Equal(t, backend.HealthStatusOk, h.Status)
		require.NotContains(t, h.Message, "cannot read", "reads of the health check fall back too")
		if strings.Contains(h.Message, "queries go to the primary") {
			break
		}
		require.Less(t, time.Since(stopped), 5*time.Second, "the health check never noticed the stopped replica: %s", h.Message)
		time.Sleep(200 * time.Millisecond)
	}
	healthz = get(t, base+"/healthz")
	require.Contains(t, healthz, `"reading_primary":true`)
	strict, err := store.NewReads(primaryPool, replicaPool, store.FallbackNone)
	require.NoError(t, err)
	_, err = stats.New(stats.Config{DB: strict, Cache: mustMemoryCache(t)}).Query(ctx, q, period.Range{}, true)
	require.ErrorIs(t, err, store.ErrReplicaDown)
	figure(t, "replica stopped", "%d/%d bypassing queries answered from the primary in %s; health %q; /healthz %s; with fallback none: %v",
		answered, 20, time.Since(stopped).Round(time.Millisecond), h.Message, strings.TrimSpace(healthz), err)

	// Back up: reads return to the replica.
	replicaSrv, err = devserver.Postgres(ctx, rdir, rport)
	require.NoError(t, err)
	replicaUp = true
	back := time.Now()
	for reads.Status(ctx).ReadingPrimary {
		require.Less(t, time.Since(back), 30*time.Second, "reads never returned to the replica")
		time.Sleep(200 * time.Millisecond)
	}
	figure(t, "replica restarted", "reads back on the replica %s after it accepted connections", time.Since(back).Round(time.Millisecond))
}

func mustMemoryCache(t *testing.T) *cache.Cache {
	c, err := cache.Open(nil, cache.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func noticesOf(frames data.Frames) string {
	var out []string
	for _, f := range frames {
		if f.Meta != nil {
			for _, n := range f.Meta.Notices {
				out = append(out, n.Text)
			}
		}
	}
	return strings.Join(out, "\n")
}

func get(t *testing.T, url string) string {
	resp, err := http.Get(url) // #nosec G107 -- a loopback server this test started
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// replicaLine is the state line of `sview status`'s READ REPLICA table.
func replicaLine(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "READ REPLICA") && i+2 < len(lines) {
			return strings.Join(strings.Fields(lines[i+1]+" | "+lines[i+2]), " ")
		}
	}
	return ""
}
