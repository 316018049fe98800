package cache

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/rollupstate"
)

// Engine computes a stats query from PostgreSQL: its frames and the watermark of the source
// they were read from.
type Engine interface {
	Run(ctx context.Context, q query.Query, r period.Range) (data.Frames, time.Time, error)
}

// Freshness for dashboard-range queries, which have no period row: they are recomputed after
// one interval (at least a minute) and kept for twice that, at most a day.
const (
	minRangeRefresh = time.Minute
	maxRangeTTL     = 25 * time.Hour
)

// watermarkTTL is how long the watermark table is trusted before it is read again: a warm hit
// should not cost a database round trip, and rollups move at most every few minutes.
const watermarkTTL = 2 * time.Second

// StatsOptions tune a Stats runner.
type StatsOptions struct {
	// TTL overrides the period table's cache TTL per period name (the datasource's cache TTL
	// settings); the refresh interval stays as the period table says.
	TTL map[string]time.Duration
}

// Stats answers stats queries through the cache.
type Stats struct {
	cache  *Cache
	engine Engine
	db     rollupstate.Querier
	opts   StatsOptions

	mu       sync.Mutex
	marks    map[string]time.Time // "table/precision" → watermark
	marksAt  time.Time
	marksErr error
}

// NewStats joins a cache and an engine; db reads the rollup watermarks.
func NewStats(c *Cache, e Engine, db rollupstate.Querier, opts StatsOptions) *Stats {
	return &Stats{cache: c, engine: e, db: db, opts: opts}
}

// Cache is the cache this runner fills.
func (s *Stats) Cache() *Cache { return s.cache }

// Query answers a validated stats query; skipRead bypasses the cache read (alerts,
// X-Cache-Skip) but still writes the result.
func (s *Stats) Query(ctx context.Context, q query.Query, r period.Range, skipRead bool) (Result, error) {
	req := s.request(q, r)
	req.SkipRead = skipRead
	return s.cache.Get(ctx, req)
}

func (s *Stats) request(q query.Query, r period.Range) Request {
	req := Request{
		Key:   q.CacheKey(r),
		Label: label(q, r),
		Compute: func(ctx context.Context) (data.Frames, time.Time, error) {
			return s.engine.Run(ctx, q, r)
		},
	}
	if p, ok := period.Lookup(q.Period); ok {
		req.TTL, req.RefreshAfter = p.CacheTTL, p.Refresh
		if ttl, ok := s.opts.TTL[p.Name]; ok {
			req.TTL = ttl
		}
		if p.Source != period.Raw {
			table, precision := q.Table(), string(p.Source)
			req.Watermark = func(ctx context.Context) (time.Time, error) { return s.watermark(ctx, table, precision) }
		}
		return req
	}
	req.RefreshAfter = max(r.Aligned().Interval, minRangeRefresh)
	req.TTL = min(2*req.RefreshAfter, maxRangeTTL)
	return req
}

func label(q query.Query, r period.Range) string {
	name := q.Preset
	if name == "" {
		name = fmt.Sprintf("%s/%s/%s", q.Metric, q.GroupBy, q.Format)
	}
	if q.Period != "" {
		return name + " " + q.Period
	}
	a := r.Aligned()
	return fmt.Sprintf("%s %s..%s/%s", name, a.From.UTC().Format(time.RFC3339), a.To.UTC().Format(time.RFC3339), a.Interval)
}

// watermark returns the current watermark of (table, precision), reading the table at most
// once per watermarkTTL.
func (s *Stats) watermark(ctx context.Context, table, precision string) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.marks == nil || time.Since(s.marksAt) > watermarkTTL {
		wms, err := rollupstate.Watermarks(ctx, s.db)
		s.marksAt, s.marksErr = time.Now(), err
		if err == nil {
			s.marks = make(map[string]time.Time, len(wms))
			for _, w := range wms {
				s.marks[w.Table+"/"+w.Precision] = w.Watermark
			}
		}
	}
	if s.marksErr != nil {
		return time.Time{}, fmt.Errorf("read rollup watermarks: %w", s.marksErr)
	}
	return s.marks[table+"/"+precision], nil
}
