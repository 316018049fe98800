package pluginharness

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// liveListener is the application_name of the plugin's live listener
// (plugin/pkg/plugin/datasource.go).
const liveListener = "sview-grafana-plugin-live"

// liveChannel is the path of an events channel of login at rate, unfiltered (docs/live.md).
func liveChannel(login string, rate int) string {
	b64 := base64.RawURLEncoding.EncodeToString
	return "incidents/u" + b64([]byte(login)) + "/" + strconv.Itoa(rate) + "/" + b64([]byte(`{}`))
}

// delivery is one event a stream received: its action, and how long after its row's time.
type delivery struct {
	action string
	delay  time.Duration
}

// liveReader is one RunStream of the plugin, read until the test or benchmark ends.
type liveReader struct {
	mu       sync.Mutex
	received []delivery
	counts   map[string]int // received events by action
	dropped  int64
	err      error
}

func (r *liveReader) snapshot() ([]delivery, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.received...), r.dropped
}

// count is how many received events have action.
func (r *liveReader) count(action string) int {
	n, _ := r.progress(action)
	return n
}

// progress is how many received events have action, and how many the stream dropped.
func (r *liveReader) progress(action string) (int, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[action], r.dropped
}

// openStreams runs n streams, one per user admin0…admin<n-1> (Grafana gives each channel one
// RunStream, and a channel is one user's), until ctx ends; wg is done when they all are.
func openStreams(ctx context.Context, tb testing.TB, p *Plugin, pc backend.PluginContext, n, rate int, wg *sync.WaitGroup) []*liveReader {
	tb.Helper()
	readers := make([]*liveReader, n)
	for i := range readers {
		user := &backend.User{Login: fmt.Sprintf("admin%d", i), Role: "Admin"}
		c := pc
		c.User = user
		path := liveChannel(user.Login, rate)
		status, err := p.SubscribeStream(ctx, &backend.SubscribeStreamRequest{PluginContext: c, Path: path})
		require.NoError(tb, err)
		require.Equal(tb, backend.SubscribeStreamStatusOK, status)
		recv, err := p.RunStream(ctx, &backend.RunStreamRequest{PluginContext: c, Path: path})
		require.NoError(tb, err)
		r := &liveReader{counts: map[string]int{}}
		readers[i] = r
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b, err := recv()
				if err != nil {
					if ctx.Err() == nil {
						r.mu.Lock()
						r.err = err
						r.mu.Unlock()
					}
					return
				}
				at := time.Now()
				var f data.Frame
				if err := json.Unmarshal(b, &f); err != nil {
					r.mu.Lock()
					r.err = err
					r.mu.Unlock()
					return
				}
				times, _ := f.FieldByName("time")
				actions, _ := f.FieldByName("action")
				drops, _ := f.FieldByName("dropped")
				r.mu.Lock()
				for i := range f.Rows() {
					action := actions.At(i).(string)
					r.received = append(r.received, delivery{action: action, delay: at.Sub(times.At(i).(time.Time))})
					r.counts[action]++
					r.dropped = drops.At(i).(int64)
				}
				r.mu.Unlock()
			}
		}()
	}
	return readers
}

// warmUp inserts a connect row every 100 ms until every reader has received one, so each
// stream has joined the listener before the measured rows are written.
func warmUp(tb testing.TB, pool *pgxpool.Pool, readers []*liveReader) {
	tb.Helper()
	require.Eventually(tb, func() bool {
		if insertIncidents(pool, 1, "connect") != nil {
			return false
		}
		for _, r := range readers {
			if r.count("connect") == 0 {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond)
}

// insertIncidents writes n incidents with action in one statement, each stamped with the
// moment it was written.
func insertIncidents(pool *pgxpool.Pool, n int, action string) error {
	_, err := pool.Exec(context.Background(), `INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
		SELECT clock_timestamp(), 1, 1, 'minipot_telnet', $2::action_t, ('192.0.2.' || (i % 250))::inet, 'CZ', 64500
		FROM generate_series(1, $1) i`, n, action)
	return err
}

func countListeners(tb testing.TB, pool *pgxpool.Pool) int {
	tb.Helper()
	var n int
	require.NoError(tb, pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, liveListener).Scan(&n))
	return n
}

func TestLiveStreamToFiftySubscribers(t *testing.T) {
	p := start(t)
	pc, dbURL := seededDatabase(t, nil)
	pool, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	defer pool.Close()

	ctx := context.Background()
	other := pc
	other.User = &backend.User{Login: "viewer", Role: "Viewer"}
	status, err := p.SubscribeStream(ctx, &backend.SubscribeStreamRequest{PluginContext: other, Path: liveChannel("admin0", 50)})
	require.NoError(t, err)
	require.Equal(t, backend.SubscribeStreamStatusPermissionDenied, status, "another user's channel")
	status, err = p.SubscribeStream(ctx, &backend.SubscribeStreamRequest{PluginContext: other, Path: "incidents/u/50/%%%"})
	require.NoError(t, err)
	require.Equal(t, backend.SubscribeStreamStatusNotFound, status, "a path that is no channel")

	streamCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	readers := openStreams(streamCtx, t, p, pc, 50, 1000, &wg)
	warmUp(t, pool, readers)
	require.Equal(t, 1, countListeners(t, pool), "one listener for 50 streams")

	require.NoError(t, insertIncidents(pool, 200, "login"))
	require.Eventually(t, func() bool {
		for _, r := range readers {
			if r.count("login") < 200 {
				return false
			}
		}
		return true
	}, 20*time.Second, 20*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // room for a duplicate to show
	for i, r := range readers {
		_, dropped := r.snapshot()
		require.Equal(t, 200, r.count("login"), "stream %d: each row once", i)
		require.Zero(t, dropped, "stream %d", i)
		require.NoError(t, r.err, "stream %d", i)
	}

	// Subscribers leave: the listener closes, the plugin stays.
	stop()
	wg.Wait()
	require.Eventually(t, func() bool { return countListeners(t, pool) == 0 }, 10*time.Second, 20*time.Millisecond)
	require.False(t, p.Exited())
	h, err := p.CheckHealth(ctx, pc)
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusOk, h.Status)
}
