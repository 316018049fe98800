package cache

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// counter is an instrumented compute function: it counts computations and can be slowed down
// or told to fail.
type counter struct {
	calls atomic.Int64
	delay time.Duration
	wm    time.Time
	err   error
}

func (c *counter) compute(ctx context.Context) ([]byte, time.Time, error) {
	n := c.calls.Add(1)
	select {
	case <-time.After(c.delay):
	case <-ctx.Done():
		return nil, time.Time{}, ctx.Err()
	}
	if c.err != nil {
		return nil, time.Time{}, c.err
	}
	return []byte(strconv.FormatInt(n, 10)), c.wm, nil
}

func value(t *testing.T, r Result) int64 {
	t.Helper()
	v, err := strconv.ParseInt(string(r.Value), 10, 64)
	require.NoError(t, err)
	return v
}

func newCache(t *testing.T, b Backend, opts Options) *Cache {
	t.Helper()
	opts.Backend = b
	c, err := New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c
}

func memory(t *testing.T) Backend {
	m, err := NewMemory(100)
	require.NoError(t, err)
	return m
}

func mini(t *testing.T) (*miniredis.Miniredis, Backend) {
	s := miniredis.RunT(t)
	r, err := NewRedis(RedisConfig{Addrs: []string{s.Addr()}})
	require.NoError(t, err)
	return s, r
}

func backends(t *testing.T) map[string]func(t *testing.T) Backend {
	return map[string]func(t *testing.T) Backend{
		"memory":    memory,
		"miniredis": func(t *testing.T) Backend { _, b := mini(t); return b },
	}
}

func TestHitMissAndBypass(t *testing.T) {
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newCache(t, mk(t), Options{})
			cnt := &counter{wm: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			req := Request{Key: "q1", Label: "all_attackers_graph 1w", TTL: time.Hour, RefreshAfter: time.Hour, Compute: cnt.compute}

			r, err := c.Get(ctx, req)
			require.NoError(t, err)
			require.Equal(t, StateMiss, r.State)
			require.Equal(t, int64(1), value(t, r))
			require.True(t, r.Watermark.Equal(cnt.wm))
			require.Equal(t, "all_attackers_graph 1w", r.Label)

			r, err = c.Get(ctx, req)
			require.NoError(t, err)
			require.Equal(t, StateHit, r.State)
			require.Equal(t, int64(1), value(t, r), "a hit serves the stored frames")

			bypass := req
			bypass.SkipRead = true
			r, err = c.Get(ctx, bypass)
			require.NoError(t, err)
			require.Equal(t, StateBypass, r.State)
			require.Equal(t, int64(2), value(t, r), "a bypass computes")

			r, err = c.Get(ctx, req)
			require.NoError(t, err)
			require.Equal(t, StateHit, r.State)
			require.Equal(t, int64(2), value(t, r), "a bypass writes what it computed")
			require.Equal(t, int64(2), cnt.calls.Load())

			var listed []Listed
			require.NoError(t, c.List(ctx, func(l Listed) error { listed = append(listed, l); return nil }))
			require.Len(t, listed, 1)
			require.Equal(t, "all_attackers_graph 1w", listed[0].Header.Label)
			require.Positive(t, listed[0].TTL)

			n, err := c.Clear(ctx)
			require.NoError(t, err)
			require.GreaterOrEqual(t, n, 1)
			r, err = c.Get(ctx, req)
			require.NoError(t, err)
			require.Equal(t, StateMiss, r.State)
		})
	}
}

func TestComputeErrorIsNotCached(t *testing.T) {
	ctx := context.Background()
	c := newCache(t, memory(t), Options{})
	boom := errors.New("relation does not exist")
	cnt := &counter{err: boom}
	req := Request{Key: "q", TTL: time.Hour, Compute: cnt.compute}
	_, err := c.Get(ctx, req)
	require.ErrorIs(t, err, boom)
	cnt.err = nil
	r, err := c.Get(ctx, req)
	require.NoError(t, err)
	require.Equal(t, StateMiss, r.State)
}

func TestStaleWhileRevalidate(t *testing.T) {
	tests := []struct {
		name         string
		refreshAfter time.Duration
		moveWM       bool
		wantState    State
	}{
		{name: "fresh", refreshAfter: time.Hour, wantState: StateHit},
		{name: "refresh interval passed", refreshAfter: time.Nanosecond, wantState: StateStale},
		{name: "watermark moved", refreshAfter: time.Hour, moveWM: true, wantState: StateStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c := newCache(t, memory(t), Options{})
			wm0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			var current atomic.Pointer[time.Time]
			current.Store(&wm0)
			cnt := &counter{wm: wm0}
			req := Request{Key: "q", TTL: time.Hour, RefreshAfter: tt.refreshAfter, Compute: cnt.compute,
				Watermark: func(context.Context) (time.Time, error) { return *current.Load(), nil }}
			_, err := c.Get(ctx, req)
			require.NoError(t, err)
			if tt.moveWM {
				wm1 := wm0.Add(time.Hour)
				current.Store(&wm1)
				cnt.wm = wm1
			}
			r, err := c.Get(ctx, req)
			require.NoError(t, err)
			require.Equal(t, tt.wantState, r.State)
			require.Equal(t, int64(1), value(t, r), "the old entry is served at once")
			if tt.wantState == StateHit {
				require.Equal(t, int64(1), cnt.calls.Load())
				return
			}
			require.Eventually(t, func() bool {
				r, err := c.Get(ctx, Request{Key: "q", TTL: time.Hour, RefreshAfter: time.Hour, Compute: cnt.compute})
				return err == nil && value(t, r) == 2
			}, 5*time.Second, 10*time.Millisecond, "the background refresh replaces the entry")
		})
	}
}

func TestOneRefreshPerKey(t *testing.T) {
	ctx := context.Background()
	c := newCache(t, memory(t), Options{})
	cnt := &counter{}
	req := Request{Key: "q", TTL: time.Hour, RefreshAfter: time.Hour, Compute: cnt.compute}
	_, err := c.Get(ctx, req)
	require.NoError(t, err)
	cnt.delay = 200 * time.Millisecond
	req.RefreshAfter = time.Nanosecond
	for range 20 {
		r, err := c.Get(ctx, req)
		require.NoError(t, err)
		require.Equal(t, StateStale, r.State)
	}
	c.wg.Wait()
	require.Equal(t, int64(2), cnt.calls.Load(), "twenty stale hits start one refresh")
}

// TestColdStampede: 100 identical cold queries, spread over two cache instances sharing one
// Redis (two Grafana instances), cost one computation.
func TestColdStampede(t *testing.T) {
	ctx := context.Background()
	s := miniredis.RunT(t)
	cnt := &counter{delay: 300 * time.Millisecond}
	var caches []*Cache
	for range 2 {
		b, err := NewRedis(RedisConfig{Addrs: []string{s.Addr()}})
		require.NoError(t, err)
		caches = append(caches, newCache(t, b, Options{PollInterval: 5 * time.Millisecond}))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Go(func() {
			r, err := caches[i%2].Get(ctx, Request{Key: "cold", TTL: time.Hour, Compute: cnt.compute})
			if err == nil && value(t, r) != 1 {
				err = fmt.Errorf("got value %d", value(t, r))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int64(1), cnt.calls.Load())
}

func TestCancellationReachesComputation(t *testing.T) {
	c := newCache(t, memory(t), Options{})
	cnt := &counter{delay: time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Get(ctx, Request{Key: "q", TTL: time.Hour, Compute: cnt.compute})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestBackendDownDegrades(t *testing.T) {
	ctx := context.Background()
	s, b := mini(t)
	c := newCache(t, b, Options{})
	cnt := &counter{}
	req := Request{Key: "q", TTL: time.Hour, RefreshAfter: time.Hour, Compute: cnt.compute}
	_, err := c.Get(ctx, req)
	require.NoError(t, err)
	require.False(t, c.Status().Degraded)

	s.Close()
	r, err := c.Get(ctx, req)
	require.NoError(t, err, "a dead backend never fails the query")
	require.Equal(t, StateDegraded, r.State)
	require.Equal(t, int64(2), value(t, r))
	st := c.Status()
	require.True(t, st.Degraded)
	require.Equal(t, "redis", st.Backend)
	require.Contains(t, st.LastError, "get")
	require.Error(t, c.Ping(ctx))

	require.NoError(t, s.Restart())
	require.NoError(t, c.Ping(ctx))
	require.False(t, c.Status().Degraded)
}

func TestLockSafeRelease(t *testing.T) {
	ctx := context.Background()
	s, b := mini(t)
	defer b.Close()
	release, ok, err := b.Lock(ctx, "k", time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = b.Lock(ctx, "k", time.Second)
	require.NoError(t, err)
	require.False(t, ok, "the lock is exclusive")
	// Our lock expires and another process takes it: our release must not free theirs.
	s.FastForward(2 * time.Second)
	_, ok, err = b.Lock(ctx, "k", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	release()
	_, ok, err = b.Lock(ctx, "k", time.Minute)
	require.NoError(t, err)
	require.False(t, ok, "a stale release left the other holder's lock alone")
	require.True(t, s.Exists(DefaultKeyPrefix+"{k}:lock"))
}

func TestMemoryExpiry(t *testing.T) {
	ctx := context.Background()
	m, err := NewMemory(2)
	require.NoError(t, err)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	require.NoError(t, m.Set(ctx, "a", []byte("1"), time.Minute))
	_, ok, _ := m.Get(ctx, "a")
	require.True(t, ok)
	now = now.Add(2 * time.Minute)
	_, ok, _ = m.Get(ctx, "a")
	require.False(t, ok, "expired entries are not served")
	for _, k := range []string{"a", "b", "c"} {
		require.NoError(t, m.Set(ctx, k, []byte(k), time.Hour))
	}
	_, ok, _ = m.Get(ctx, "a")
	require.False(t, ok, "the least recently used entry is evicted")
}

func TestParseRedisURL(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		want    RedisConfig
		wantErr error
	}{
		{name: "single", url: "redis://127.0.0.1:6379/2", want: RedisConfig{Addrs: []string{"127.0.0.1:6379"}, DB: 2}},
		{name: "default port and password", url: "redis://:pw@cache", want: RedisConfig{Addrs: []string{"cache:6379"}, Password: "pw"}},
		{name: "tls", url: "rediss://h:6380", want: RedisConfig{Addrs: []string{"h:6380"}, TLS: true}},
		{name: "sentinel", url: "redis://s1:26379?mode=sentinel&master_name=mymaster&addr=s2:26379",
			want: RedisConfig{Mode: ModeSentinel, MasterName: "mymaster", Addrs: []string{"s1:26379", "s2:26379"}}},
		{name: "key prefix", url: "redis://h:1?key_prefix=prod:", want: RedisConfig{Addrs: []string{"h:1"}, KeyPrefix: "prod:"}},
		{name: "cluster", url: "redis://n1:7000?mode=cluster&addr=n2:7000",
			want: RedisConfig{Mode: ModeCluster, Addrs: []string{"n1:7000", "n2:7000"}}},
		{name: "bad scheme", url: "http://h:1", wantErr: ErrRedisURL},
		{name: "bad mode", url: "redis://h:1?mode=ring", wantErr: ErrRedisMode},
		{name: "sentinel without master", url: "redis://h:1?mode=sentinel", wantErr: ErrRedisMasterName},
		{name: "two addresses single", url: "redis://h:1?addr=h:2", wantErr: ErrRedisAddress},
		{name: "unknown parameter", url: "redis://h:1?pool=3", wantErr: ErrRedisURL},
		{name: "bad db", url: "redis://h:1/x", wantErr: ErrRedisURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRedisURL(tt.url)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestWaiterSurvivesLeaderCancellation: the first caller's dashboard closes mid-computation;
// a second caller waiting on the same key still gets its answer.
func TestWaiterSurvivesLeaderCancellation(t *testing.T) {
	c := newCache(t, memory(t), Options{})
	cnt := &counter{delay: 200 * time.Millisecond}
	req := Request{Key: "q", TTL: time.Hour, Compute: cnt.compute}
	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderDone := make(chan error, 1)
	go func() { _, err := c.Get(leaderCtx, req); leaderDone <- err }()
	require.Eventually(t, func() bool { return cnt.calls.Load() == 1 }, time.Second, time.Millisecond)
	waiter := make(chan error, 1)
	go func() { _, err := c.Get(context.Background(), req); waiter <- err }()
	time.Sleep(20 * time.Millisecond) // let the waiter join the flight
	cancel()
	require.ErrorIs(t, <-leaderDone, context.Canceled)
	require.NoError(t, <-waiter)
	require.Equal(t, int64(2), cnt.calls.Load(), "the waiter computed again under its own context")
}

// TestFallbackWhileRedisIsDown: with the in-process fallback, an outage of Redis costs no
// computation for answers this process already had, and one per new key, however many
// requests arrive.
func TestFallbackWhileRedisIsDown(t *testing.T) {
	ctx := context.Background()
	s, b := mini(t)
	c := newCache(t, b, Options{Fallback: memory(t)})
	cnt := &counter{}
	known := Request{Key: "known", TTL: time.Hour, RefreshAfter: time.Hour, Compute: cnt.compute}
	r, err := c.Get(ctx, known)
	require.NoError(t, err)
	require.Equal(t, StateMiss, r.State)

	s.Close()
	fresh := Request{Key: "new", TTL: time.Hour, RefreshAfter: time.Hour, Compute: cnt.compute}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := known
			if i%2 == 1 {
				req = fresh
			}
			r, err := c.Get(ctx, req)
			if err == nil && r.State != StateDegraded {
				err = fmt.Errorf("state %s, want degraded", r.State)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int64(2), cnt.calls.Load(), "one computation before the outage, one for the new key during it")
	r, err = c.Get(ctx, known)
	require.NoError(t, err)
	require.Equal(t, int64(1), value(t, r), "the copy kept before the outage is served")
	require.True(t, c.Status().Degraded)

	// A copy past its refresh interval is served and refreshed once in the background.
	stale := known
	stale.RefreshAfter = time.Nanosecond
	r, err = c.Get(ctx, stale)
	require.NoError(t, err)
	require.Equal(t, int64(1), value(t, r))
	require.Eventually(t, func() bool {
		r, err := c.Get(ctx, known)
		return err == nil && value(t, r) == 3
	}, 5*time.Second, 10*time.Millisecond)

	require.NoError(t, s.Restart())
	// go-redis waits a moment before dialling a server that refused it.
	require.Eventually(t, func() bool {
		r, err := c.Get(ctx, known)
		return err == nil && r.State == StateHit
	}, 10*time.Second, 50*time.Millisecond, "Redis kept its entry through the restart")
	require.False(t, c.Status().Degraded)
}

func TestOpenRedisHasFallback(t *testing.T) {
	s := miniredis.RunT(t)
	c, err := Open(&RedisConfig{Addrs: []string{s.Addr()}}, Options{})
	require.NoError(t, err)
	defer c.Close()
	require.NotNil(t, c.fallback)
	m, err := Open(nil, Options{})
	require.NoError(t, err)
	defer m.Close()
	require.Nil(t, m.fallback, "the in-process LRU needs no copy of itself")
}
