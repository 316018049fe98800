// Package cache keeps computed results (opaque bytes) in Redis or an in-process LRU and
// serves them stale-while-revalidate: a hit answers at once, a due entry is refreshed in the
// background, and N identical cold queries cost one computation (single-flight in the process,
// a Redis lock across processes). When the backend fails the cache degrades to computing every
// query; it never fails a query because of itself.
package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Defaults of Options.
const (
	DefaultLockTTL        = time.Minute
	DefaultLockWait       = 30 * time.Second
	DefaultPollInterval   = 25 * time.Millisecond
	DefaultRefreshTimeout = 2 * time.Minute
	// backendTimeout bounds a write after the computation, which must not hang on a dead Redis.
	backendTimeout = 2 * time.Second
)

// Logger is what the cache logs through: *slog.Logger and the plugin SDK's logger both fit.
type Logger interface {
	Warn(msg string, args ...any)
}

// Options configure a Cache; only Backend is required.
type Options struct {
	Backend Backend
	// Fallback, when set, keeps in-process copies of the answers this process served and
	// answers from them while Backend fails, so an outage of a shared Redis does not send
	// every request to PostgreSQL. Open sets it for Redis.
	Fallback Backend
	Metrics  *Metrics // nil: counted but not registered anywhere
	Logger   Logger   // nil: silent
	// LockTTL is how long a computation lock lives if its holder dies; longer than any query.
	LockTTL time.Duration
	// LockWait bounds how long a cold query waits for another process's computation before
	// computing itself.
	LockWait time.Duration
	// PollInterval is how often a waiting query looks for the other process's value.
	PollInterval time.Duration
	// RefreshTimeout bounds one background refresh.
	RefreshTimeout time.Duration
}

// State says how a result was obtained.
type State string

// States of a Result.
const (
	StateHit      State = "hit"      // fresh entry
	StateStale    State = "stale"    // entry served, background refresh started
	StateMiss     State = "miss"     // computed now (or waited for another computation)
	StateBypass   State = "bypass"   // read skipped (alert, X-Cache-Skip), computed and written
	StateDegraded State = "degraded" // backend failed; computed from PostgreSQL
)

// ComputeFunc computes a value and the source watermark it reflects.
type ComputeFunc func(ctx context.Context) (value []byte, watermark time.Time, err error)

// Request is one cached computation.
type Request struct {
	// Key identifies the normalised query and its period or aligned range; any string, the
	// cache hashes it.
	Key string
	// Label names the query in listings.
	Label string
	// TTL is how long the entry is kept; a hit older than this is never served.
	TTL time.Duration
	// RefreshAfter is the age after which a hit is refreshed in the background (0: never by age).
	RefreshAfter time.Duration
	// Watermark, when set, reads the current source watermark; a hit computed at an older one is
	// refreshed in the background.
	Watermark func(ctx context.Context) (time.Time, error)
	// SkipRead bypasses the read (alerts, X-Cache-Skip); the result is still written.
	SkipRead bool
	Compute  ComputeFunc
}

// Result is an answer of the cache.
type Result struct {
	Entry
	State State
}

// Status is the cache's own health, for CheckHealth, status frames and `sview status`.
type Status struct {
	Backend   string    `json:"backend"`
	Degraded  bool      `json:"degraded"`
	LastError string    `json:"last_error,omitempty"`
	Since     time.Time `json:"since,omitzero"` // when the current degraded spell started
}

// Cache is safe for concurrent use. Close it to stop background refreshes.
type Cache struct {
	opts     Options
	backend  Backend
	fallback Backend // nil: no in-process copies
	metrics  *Metrics
	flight   singleflight.Group

	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	refreshing map[string]bool
	closed     bool
	status     Status
}

// New builds a cache over opts.Backend.
func New(opts Options) (*Cache, error) {
	if opts.Backend == nil {
		return nil, errors.New("cache: no backend given")
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	setDefault(&opts.LockTTL, DefaultLockTTL)
	setDefault(&opts.LockWait, DefaultLockWait)
	setDefault(&opts.PollInterval, DefaultPollInterval)
	setDefault(&opts.RefreshTimeout, DefaultRefreshTimeout)
	base, cancel := context.WithCancel(context.Background())
	return &Cache{
		opts: opts, backend: opts.Backend, fallback: opts.Fallback, metrics: opts.Metrics,
		base: base, cancel: cancel,
		refreshing: map[string]bool{},
		status:     Status{Backend: opts.Backend.Name()},
	}, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Close stops background refreshes, waits for them and closes the backend.
func (c *Cache) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	return c.backend.Close()
}

// Status reports the backend and whether the cache is degraded.
func (c *Cache) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Ping checks the backend now and updates the status accordingly.
func (c *Cache) Ping(ctx context.Context) error {
	if err := c.backend.Ping(ctx); err != nil {
		c.failed("ping", err)
		return err
	}
	c.recovered()
	return nil
}

// List and Clear expose the backend to `sview cache ls|clear`.
func (c *Cache) List(ctx context.Context, fn func(Listed) error) error {
	return c.backend.List(ctx, fn)
}

// Clear deletes every entry and lock of this cache.
func (c *Cache) Clear(ctx context.Context) (int, error) { return c.backend.Clear(ctx) }

// hashKey turns any query key into a fixed-length token that is safe inside a Redis hash tag.
func hashKey(k string) string {
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:16])
}

// Get answers r from the cache or by computing it. Errors come only from r.Compute (or ctx).
func (c *Cache) Get(ctx context.Context, r Request) (Result, error) {
	if r.Compute == nil {
		return Result{}, errors.New("cache: request without a compute function")
	}
	key := hashKey(r.Key)
	if r.SkipRead {
		c.metrics.requests.WithLabelValues(string(StateBypass)).Inc()
		return c.shared(ctx, "bypass:"+key, StateBypass, func(ctx context.Context) ([]byte, error) {
			return c.computeAndStore(ctx, c.backend, key, r)
		})
	}
	raw, ok, err := c.backend.Get(ctx, key)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		c.failed("get", err)
		return c.degraded(ctx, key, r)
	}
	c.recovered()
	if ok {
		e, err := decodeEntry(raw)
		if err == nil {
			c.keepLocal(key, raw, e, r)
			state := StateHit
			if c.due(ctx, r, e) {
				state = StateStale
				c.refreshInBackground(c.backend, key, r)
			}
			c.metrics.requests.WithLabelValues(string(state)).Inc()
			return Result{Entry: e, State: state}, nil
		}
		c.warn("unreadable cache entry, recomputing", "key", key, "label", r.Label, "err", err)
	}
	c.metrics.requests.WithLabelValues(string(StateMiss)).Inc()
	return c.shared(ctx, key, StateMiss, func(ctx context.Context) ([]byte, error) {
		return c.fill(ctx, key, r)
	})
}

// degraded answers while the backend fails: from the in-process fallback when there is one
// (with the same freshness rules, so each process computes a key at most once per refresh
// interval), else by computing, single-flighted in the process.
func (c *Cache) degraded(ctx context.Context, key string, r Request) (Result, error) {
	c.metrics.requests.WithLabelValues(string(StateDegraded)).Inc()
	if c.fallback != nil {
		if raw, ok, err := c.fallback.Get(ctx, key); err == nil && ok {
			if e, err := decodeEntry(raw); err == nil {
				c.metrics.fallbackHits.Inc()
				if c.due(ctx, r, e) {
					c.refreshInBackground(c.fallback, key, r)
				}
				return Result{Entry: e, State: StateDegraded}, nil
			}
		}
	}
	return c.shared(ctx, key, StateDegraded, func(ctx context.Context) ([]byte, error) {
		return c.computeAndStore(ctx, c.fallback, key, r)
	})
}

// keepLocal copies an entry read from the shared backend into the fallback for the rest of
// its TTL, so the first requests of an outage are answered without the database.
func (c *Cache) keepLocal(key string, raw []byte, e Entry, r Request) {
	if c.fallback == nil {
		return
	}
	if left := r.TTL - time.Since(e.ComputedAt); left > 0 {
		_ = c.fallback.Set(context.Background(), key, raw, left) // in-process: never fails
	}
}

// shared runs fn once per key among concurrent callers of this process. The first caller's
// context runs the computation, so Grafana's cancellation reaches PostgreSQL; a waiter whose
// own context is still alive retries instead of inheriting someone else's cancellation.
func (c *Cache) shared(ctx context.Context, flightKey string, state State, fn func(context.Context) ([]byte, error)) (Result, error) {
	for attempt := 0; ; attempt++ {
		v, err, shared := c.flight.Do(flightKey, func() (any, error) { return fn(ctx) })
		if err != nil {
			if shared && attempt == 0 && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
				continue
			}
			return Result{}, err
		}
		e, err := decodeEntry(v.([]byte))
		if err != nil {
			return Result{}, err
		}
		return Result{Entry: e, State: state}, nil
	}
}

// fill computes a missing entry once across processes: the holder of the Redis lock computes,
// the others wait (bounded by LockWait) for its value.
func (c *Cache) fill(ctx context.Context, key string, r Request) ([]byte, error) {
	deadline := time.Now().Add(c.opts.LockWait)
	for {
		release, acquired, err := c.backend.Lock(ctx, key, c.opts.LockTTL)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			c.failed("lock", err)
			return c.computeAndStore(ctx, c.fallback, key, r)
		}
		if acquired {
			defer release()
			// The previous holder may have written the value between our read and our lock.
			if raw, ok, err := c.backend.Get(ctx, key); err == nil && ok {
				return raw, nil
			}
			return c.computeAndStore(ctx, c.backend, key, r)
		}
		if time.Now().After(deadline) {
			c.warn("gave up waiting for another process's computation", "label", r.Label, "waited", c.opts.LockWait)
			return c.computeAndStore(ctx, c.backend, key, r)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(c.opts.PollInterval):
		}
		raw, ok, err := c.backend.Get(ctx, key)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			c.failed("get", err)
			return c.computeAndStore(ctx, c.fallback, key, r)
		}
		if ok {
			return raw, nil
		}
	}
}

// compute runs the computation and encodes its entry without storing it.
func (c *Cache) compute(ctx context.Context, r Request) ([]byte, error) {
	c.metrics.computations.Inc()
	value, wm, err := r.Compute(ctx)
	if err != nil {
		return nil, err
	}
	b, err := encodeEntry(Entry{Label: r.Label, Watermark: wm, ComputedAt: time.Now().UTC(), Value: value})
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", r.Label, err)
	}
	return b, nil
}

// computeAndStore computes r and stores it in store (the shared backend, or the fallback, which
// may be nil); whatever it computes is also kept in the fallback.
func (c *Cache) computeAndStore(ctx context.Context, store Backend, key string, r Request) ([]byte, error) {
	b, err := c.compute(ctx, r)
	if err != nil {
		return nil, err
	}
	// The value is worth keeping even when the query that computed it was cancelled meanwhile.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), backendTimeout)
	defer cancel()
	if c.fallback != nil {
		_ = c.fallback.Set(sctx, key, b, r.TTL) // in-process: never fails
	}
	if store == c.fallback {
		return b, nil
	}
	if err := store.Set(sctx, key, b, r.TTL); err != nil {
		c.failed("set", err)
	} else {
		c.recovered()
	}
	return b, nil
}

// due reports whether a hit should be refreshed: its refresh interval passed or the source
// watermark moved past the one it was computed at.
func (c *Cache) due(ctx context.Context, r Request, e Entry) bool {
	if r.RefreshAfter > 0 && time.Since(e.ComputedAt) >= r.RefreshAfter {
		return true
	}
	if r.Watermark == nil {
		return false
	}
	wm, err := r.Watermark(ctx)
	if err != nil {
		c.warn("read source watermark", "label", r.Label, "err", err)
		return false
	}
	return wm.After(e.Watermark)
}

// refreshInBackground recomputes key into store once: one goroutine per key in this process,
// and only the process that takes the Redis lock.
func (c *Cache) refreshInBackground(store Backend, key string, r Request) {
	c.mu.Lock()
	if c.closed || c.refreshing[key] {
		c.mu.Unlock()
		return
	}
	c.refreshing[key] = true
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		defer func() {
			c.mu.Lock()
			delete(c.refreshing, key)
			c.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(c.base, c.opts.RefreshTimeout)
		defer cancel()
		release, acquired, err := store.Lock(ctx, key, c.opts.LockTTL)
		if err != nil {
			c.failed("lock", err)
			c.metrics.refreshes.WithLabelValues("error").Inc()
			return
		}
		if !acquired {
			c.metrics.refreshes.WithLabelValues("skipped").Inc()
			return
		}
		defer release()
		if _, err := c.computeAndStore(ctx, store, key, r); err != nil {
			c.metrics.refreshes.WithLabelValues("error").Inc()
			if c.base.Err() == nil {
				c.warn("background refresh failed", "label", r.Label, "err", err)
			}
			return
		}
		c.metrics.refreshes.WithLabelValues("ok").Inc()
	}()
}

func (c *Cache) failed(op string, err error) {
	c.metrics.errors.WithLabelValues(op).Inc()
	c.mu.Lock()
	first := !c.status.Degraded
	if first {
		c.status.Degraded = true
		c.status.Since = time.Now().UTC()
	}
	c.status.LastError = op + ": " + err.Error()
	c.mu.Unlock()
	if first {
		c.warn("cache backend failed; computing queries from PostgreSQL until it answers again",
			"backend", c.backend.Name(), "op", op, "err", err)
	}
}

func (c *Cache) recovered() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status.Degraded {
		c.status.Degraded = false
		c.status.LastError = ""
		c.status.Since = time.Time{}
	}
}

func (c *Cache) warn(msg string, args ...any) {
	if c.opts.Logger != nil {
		c.opts.Logger.Warn(msg, args...)
	}
}

// Refresh recomputes r and stores it, unless onlyDue is set and a stored entry is neither past
// its refresh interval nor behind the source watermark. It reports whether it computed.
// Another process holding the key's lock counts as done: that process is computing it.
func (c *Cache) Refresh(ctx context.Context, r Request, onlyDue bool) (bool, error) {
	if onlyDue {
		due, err := c.IsDue(ctx, r)
		if err != nil || !due {
			return false, err
		}
	}
	key := hashKey(r.Key)
	release, acquired, err := c.backend.Lock(ctx, key, c.opts.LockTTL)
	if err != nil {
		c.failed("lock", err)
		return false, fmt.Errorf("lock cache entry %s: %w", r.Label, err)
	}
	if !acquired {
		return false, nil
	}
	defer release()
	if _, err := c.computeAndStore(ctx, c.backend, key, r); err != nil {
		return false, err
	}
	return true, nil
}

// IsDue reports whether r is missing from the cache or due for a refresh.
func (c *Cache) IsDue(ctx context.Context, r Request) (bool, error) {
	raw, ok, err := c.backend.Get(ctx, hashKey(r.Key))
	if err != nil {
		c.failed("get", err)
		return false, fmt.Errorf("read cache entry %s: %w", r.Label, err)
	}
	if !ok {
		return true, nil
	}
	e, err := decodeEntry(raw)
	return err != nil || c.due(ctx, r, e), nil
}
