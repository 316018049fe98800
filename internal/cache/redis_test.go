package cache

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/devserver"
	"github.com/sview-project/sview/internal/testenv"
)

// pgCompute counts incidents in PostgreSQL, so the test sees real database answers.
func pgCompute(pool *pgxpool.Pool, calls *int) ComputeFunc {
	return func(ctx context.Context) ([]byte, time.Time, error) {
		*calls++
		var n int64
		if err := pool.QueryRow(ctx, "SELECT coalesce(sum(raw_count), 0) FROM incidents").Scan(&n); err != nil {
			return nil, time.Time{}, err
		}
		return []byte(strconv.FormatInt(n, 10)), time.Time{}, nil
	}
}

func countOf(t *testing.T, r Result) int64 {
	t.Helper()
	n, err := strconv.ParseInt(string(r.Value), 10, 64)
	require.NoError(t, err)
	return n
}

func TestRealRedisSharedServer(t *testing.T) {
	ctx := context.Background()
	cfg, err := ParseRedisURL(testenv.RedisURL(t))
	require.NoError(t, err)
	cfg.KeyPrefix = testenv.KeyPrefix(t)
	b, err := NewRedis(cfg)
	require.NoError(t, err)
	c := newCache(t, b, Options{})
	t.Cleanup(func() { _, _ = b.Clear(context.Background()) })
	cnt := &counter{}
	req := Request{Key: "real", Label: "real", TTL: time.Minute, RefreshAfter: time.Minute, Compute: cnt.compute}
	r, err := c.Get(ctx, req)
	require.NoError(t, err)
	require.Equal(t, StateMiss, r.State)
	r, err = c.Get(ctx, req)
	require.NoError(t, err)
	require.Equal(t, StateHit, r.State)
	var keys []string
	require.NoError(t, c.List(ctx, func(l Listed) error { keys = append(keys, l.Key); return nil }))
	require.Equal(t, []string{hashKey("real")}, keys)
}

// TestRedisStoppedMidTest stops a real redis-server between queries: they keep answering from
// PostgreSQL, and the cache reports itself degraded.
func TestRedisStoppedMidTest(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t)
	_, err := pool.Exec(ctx, `INSERT INTO identity (sn, device_token) VALUES ('0000000000000001', repeat('a', 64));
		INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip) SELECT now(), 3, id, 'minipot_telnet', 'login', '192.0.2.1' FROM identity`)
	require.NoError(t, err)

	port, err := devserver.FreePort()
	require.NoError(t, err)
	srv, err := devserver.Redis(ctx, t.TempDir(), port)
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = srv.Stop()
		}
	})
	cfg, err := ParseRedisURL(srv.URL)
	require.NoError(t, err)
	b, err := NewRedis(cfg)
	require.NoError(t, err)
	c := newCache(t, b, Options{})

	calls := 0
	req := Request{Key: "incidents", TTL: time.Minute, RefreshAfter: time.Minute, Compute: pgCompute(pool, &calls)}
	r, err := c.Get(ctx, req)
	require.NoError(t, err)
	require.Equal(t, StateMiss, r.State)
	require.Equal(t, int64(3), countOf(t, r))
	r, err = c.Get(ctx, req)
	require.NoError(t, err)
	require.Equal(t, StateHit, r.State)

	require.NoError(t, srv.Stop())
	stopped = true
	_, err = pool.Exec(ctx, `INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip) SELECT now(), 4, id, 'minipot_telnet', 'login', '192.0.2.2' FROM identity`)
	require.NoError(t, err)

	for range 3 {
		start := time.Now()
		r, err = c.Get(ctx, req)
		require.NoError(t, err)
		require.Equal(t, StateDegraded, r.State)
		require.Equal(t, int64(7), countOf(t, r), "answered from PostgreSQL")
		require.Less(t, time.Since(start), 5*time.Second, "a dead Redis costs bounded time")
	}
	require.True(t, c.Status().Degraded)
	require.Equal(t, 4, calls)
}
