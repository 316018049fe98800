// Package stats is sview's query service: it answers stats queries from the cache, computing a
// missing or stale answer with the engine once (single-flight in the process, a lock across
// processes), keeps answers as fresh as the rollups they read, and warms the presets the
// original kept warm. The plugin, `sview serve` and `sview run` build it with New alone.
package stats

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/engine"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/rollupstate"
)

// Freshness for dashboard-range queries, which have no period row: they are recomputed after
// one interval (at least a minute) and kept for twice that, at most a day.
const (
	minRangeRefresh = time.Minute
	maxRangeTTL     = 25 * time.Hour
)

// watermarkTTL is how long the watermark table is trusted before it is read again: a warm hit
// should not cost a database round trip, and rollups move at most every few minutes.
const watermarkTTL = 2 * time.Second

// Config is what a Service is built from.
type Config struct {
	// DB reads the stats and the rollup watermarks: a streaming replica, or the main database.
	DB engine.Querier
	// Cache keeps the answers; see cache.Open.
	Cache *cache.Cache
	// MaxRows bounds one answer (engine.Options.MaxRows; 0 is the engine's default).
	MaxRows int
	// TTL overrides the period table's cache TTL per period name (the datasource's cache TTL
	// settings); the refresh interval stays as the period table says.
	TTL map[string]time.Duration
	// Engine computes the answers; nil is the engine over DB. Tests count computations with
	// their own.
	Engine Engine
}

// Engine computes a stats query: its frames and the watermark of the source they were read
// from (*engine.Engine).
type Engine interface {
	Run(ctx context.Context, q query.Query, r period.Range) (data.Frames, time.Time, error)
}

// Service answers stats queries through the cache. It is safe for concurrent use.
type Service struct {
	cache  *cache.Cache
	engine Engine
	db     rollupstate.Querier
	ttl    map[string]time.Duration
	now    func() time.Time // the clock a trend's period ends at

	mu       sync.Mutex
	marks    map[rollupstate.Key]time.Time
	marksAt  time.Time
	marksErr error
}

// New builds the query service over cfg.DB and cfg.Cache.
func New(cfg Config) *Service {
	e := cfg.Engine
	if e == nil {
		e = engine.New(cfg.DB, engine.Options{MaxRows: cfg.MaxRows})
	}
	return &Service{cache: cfg.Cache, engine: e, db: cfg.DB, ttl: cfg.TTL, now: time.Now}
}

// Cache is the cache this service fills.
func (s *Service) Cache() *cache.Cache { return s.cache }

// Result is an answer of the service: the frames, how the cache obtained them, and when and at
// which source watermark they were computed.
type Result struct {
	Frames     data.Frames
	State      cache.State
	Label      string
	Watermark  time.Time
	ComputedAt time.Time
}

// Query answers a validated stats query; skipRead bypasses the cache read (alerts,
// X-Cache-Skip) but still writes the result.
func (s *Service) Query(ctx context.Context, q query.Query, r period.Range, skipRead bool) (Result, error) {
	req := s.request(q, r)
	req.SkipRead = skipRead
	res, err := s.cache.Get(ctx, req)
	if err != nil {
		return Result{}, err
	}
	// Each caller decodes its own frames: frames are not safe to share between responses.
	frames, err := decodeFrames(res.Value)
	if err != nil {
		return Result{}, fmt.Errorf("cached answer of %s: %w", res.Label, err)
	}
	return Result{Frames: frames, State: res.State, Label: res.Label, Watermark: res.Watermark, ComputedAt: res.ComputedAt}, nil
}

// Frames travel as Arrow, the SDK's own wire format, so a cached answer decodes to exactly the
// frames that were computed (types, labels, meta).
func encodeFrames(frames data.Frames) ([]byte, error) {
	arrow, err := frames.MarshalArrow()
	if err != nil {
		return nil, fmt.Errorf("encode frames: %w", err)
	}
	return json.Marshal(arrow)
}

func decodeFrames(b []byte) (data.Frames, error) {
	var arrow [][]byte
	if err := json.Unmarshal(b, &arrow); err != nil {
		return nil, fmt.Errorf("decode frames: %w", err)
	}
	return data.UnmarshalArrowFrames(arrow)
}

func (s *Service) request(q query.Query, r period.Range) cache.Request {
	req := cache.Request{
		Key:   q.CacheKey(r),
		Label: label(q, r),
		Compute: func(ctx context.Context) ([]byte, time.Time, error) {
			frames, wm, err := s.engine.Run(ctx, q, r)
			if err != nil {
				return nil, wm, err
			}
			b, err := encodeFrames(frames)
			return b, wm, err
		},
	}
	if p, ok := period.Lookup(q.Period); ok {
		req.TTL, req.RefreshAfter = p.CacheTTL, p.Refresh
		if ttl, ok := s.ttl[p.Name]; ok {
			req.TTL = ttl
		}
		if p.Source != period.Raw {
			key := rollupstate.Key{Table: q.Table(), Precision: p.Source}
			req.Watermark = func(ctx context.Context) (time.Time, error) { return s.watermark(ctx, key) }
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

// watermark returns the current watermark of a rollup, reading the table at most once per
// watermarkTTL.
func (s *Service) watermark(ctx context.Context, key rollupstate.Key) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.marks == nil || time.Since(s.marksAt) > watermarkTTL {
		wms, err := rollupstate.Watermarks(ctx, s.db)
		s.marksAt, s.marksErr = time.Now(), err
		if err == nil {
			s.marks = make(map[rollupstate.Key]time.Time, len(wms))
			for _, w := range wms {
				s.marks[w.Key] = w.Watermark
			}
		}
	}
	if s.marksErr != nil {
		return time.Time{}, fmt.Errorf("read rollup watermarks: %w", s.marksErr)
	}
	return s.marks[key], nil
}
