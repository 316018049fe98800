// Package engine answers stats queries from PostgreSQL: it picks the source table for the
// query's period or dashboard range, runs one parameterised statement and shapes the rows into
// Grafana data frames.
package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/rollupstate"
)

// Querier is what the engine needs of a pool (*pgxpool.Pool, or a transaction in tests).
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// beginner is a pool that opens transactions (*pgxpool.Pool); a Querier that is already a
// transaction reads one snapshot anyway.
type beginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// DefaultMaxRows bounds the rows of one answer (points × series, or table rows).
const DefaultMaxRows = 100_000

// availabilityTTL is how long the oldest row of every source is trusted; it only moves when
// retention drops data or a backfill adds some.
const availabilityTTL = time.Minute

var (
	// ErrTooManyRows: the answer would exceed Options.MaxRows; the user can fix it with a
	// coarser interval or a smaller limit, so it also matches query.ErrUnsupported.
	ErrTooManyRows = errors.New("answer too large")
	// ErrNotStats: Run answers stats queries only.
	ErrNotStats = errors.New("not a stats query")
)

// Options tune an Engine; zero values mean the defaults.
type Options struct {
	MaxRows int              // default DefaultMaxRows
	Now     func() time.Time // default time.Now; the clock named periods end at
}

// Engine runs stats queries. It is safe for concurrent use.
type Engine struct {
	db   Querier
	opts Options

	mu      sync.Mutex
	avail   map[derived.Family]period.Availability
	availAt time.Time
}

// New makes an engine reading through db.
func New(db Querier, opts Options) *Engine {
	if opts.MaxRows <= 0 {
		opts.MaxRows = DefaultMaxRows
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Engine{db: db, opts: opts}
}

// Info says where an answer came from; it is also put in the first frame's meta.
type Info struct {
	// What was read: a table (incidents_hourly, incidents_hourly_totals), or a ranked twin
	// and the wide rollup for the buckets its twin_buckets does not list
	// (passwords_daily_by_password + passwords_daily), with the keys of a pruned top-N.
	Source    string
	Precision string    // raw, quarterly, hourly or daily
	From      time.Time // first bucket start
	To        time.Time // end of the window
	Until     time.Time // end of the data read (To less the raw tail)
	Bucket    time.Duration
	// Watermark of the rollup read: every bucket that ends at or before it is final. Zero for
	// raw sources and for rollups the aggregator has not started yet.
	Watermark time.Time
}

// Run answers a validated stats query: the frames and the watermark of the source they were
// read from (see Info.Watermark). A query with a period ignores r.
func (e *Engine) Run(ctx context.Context, q query.Query, r period.Range) (data.Frames, time.Time, error) {
	frames, info, err := e.Answer(ctx, q, r)
	return frames, info.Watermark, err
}

// Answer is Run with the full Info.
func (e *Engine) Answer(ctx context.Context, q query.Query, r period.Range) (data.Frames, Info, error) {
	if q.QueryType != query.TypeStats {
		return nil, Info{}, fmt.Errorf("%w: %q", ErrNotStats, q.QueryType)
	}
	w, err := e.Window(ctx, q, r)
	if err != nil {
		return nil, Info{}, err
	}
	reader := e
	if b, ok := e.db.(beginner); ok {
		if _, twins := twinOf(q, w.Source); twins || sightingsApply(q, w) {
			// A twin read takes several statements (its listed buckets, the top ranks, the
			// answer): one snapshot keeps them consistent while the twin job rebuilds buckets.
			tx, err := b.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
			if err != nil {
				return nil, Info{}, fmt.Errorf("begin the snapshot of a twin read: %w", err)
			}
			defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read only: nothing to undo
			reader = &Engine{db: tx, opts: e.opts}
		}
	}
	src, err := reader.source(ctx, q, w)
	if err != nil {
		return nil, Info{}, err
	}
	info := Info{Source: src.name(), Precision: string(w.Source), From: w.From, To: w.To, Until: w.Until, Bucket: w.Bucket}
	if w.Source != period.Raw {
		if info.Watermark, _, err = rollupstate.ReadWatermark(ctx, reader.db, rollupstate.Key{Table: q.Table(), Precision: w.Source}); err != nil {
			return nil, info, err
		}
	}
	sightings, sighted, err := reader.readsSightings(ctx, q, w)
	if err != nil {
		return nil, info, err
	}
	if sighted {
		info.Source = sightings.name()
	}
	var frames data.Frames
	var st statement
	if q.Format == query.FormatTimeSeries {
		points := len(w.Buckets())
		if n := points * max(q.Limit, 1); n > e.opts.MaxRows {
			return nil, info, fmt.Errorf("%w (%w): %d points × %d series exceeds %d rows; choose a coarser interval or a smaller limit",
				ErrTooManyRows, query.ErrUnsupported, points, max(q.Limit, 1), e.opts.MaxRows)
		}
		st = seriesSQL(q, w, src)
		if sighted {
			st = sightingsSeriesSQL(q, w, sightings)
		}
		frames, err = reader.series(ctx, q, w, st)
	} else {
		if q.Limit > e.opts.MaxRows {
			return nil, info, fmt.Errorf("%w (%w): limit %d exceeds %d rows", ErrTooManyRows, query.ErrUnsupported, q.Limit, e.opts.MaxRows)
		}
		st = tableSQL(q, w, src, e.opts.MaxRows+1)
		if sighted {
			st = sightingsTableSQL(q, w, sightings, e.opts.MaxRows+1)
		}
		frames, err = reader.table(ctx, q, st)
	}
	if err != nil {
		return nil, info, err
	}
	annotate(frames, info, st.sql)
	return frames, info, nil
}

// Window is the span, bucket and source a query reads: the period's window at Now, or the
// dashboard range planned against what each precision still holds.
func (e *Engine) Window(ctx context.Context, q query.Query, r period.Range) (period.Window, error) {
	if p, ok := period.Lookup(q.Period); ok {
		// Tables and maps leave no tail out: the original trimmed only its graphs.
		return p.Window(e.opts.Now(), q.Format == query.FormatTimeSeries), nil
	}
	if q.Period != "" {
		return period.Window{}, fmt.Errorf("%w: period %q", query.ErrInvalidField, q.Period)
	}
	avail, err := e.availability(ctx, q.Table())
	if err != nil {
		return period.Window{}, err
	}
	w, err := period.Plan(r, avail)
	if err != nil {
		return period.Window{}, fmt.Errorf("%w: %w", query.ErrInvalidField, err)
	}
	return w, nil
}

// availability reads the oldest row of every precision of a table family, at most once per
// availabilityTTL. Each read is one index probe.
func (e *Engine) availability(ctx context.Context, table derived.Family) (period.Availability, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.avail != nil && time.Since(e.availAt) < availabilityTTL {
		if a, ok := e.avail[table]; ok {
			return a, nil
		}
	} else {
		e.avail, e.availAt = map[derived.Family]period.Availability{}, time.Now()
	}
	a := period.Availability{}
	rollup := derived.RollupOf(table)
	for _, p := range period.Precisions {
		var oldest *time.Time
		if err := e.db.QueryRow(ctx, "SELECT min(time) FROM "+rollup.Name(p)).Scan(&oldest); err != nil {
			return nil, fmt.Errorf("read oldest row of %s: %w", rollup.Name(p), err)
		}
		if oldest != nil {
			a[p] = *oldest
		}
	}
	e.avail[table] = a
	return a, nil
}
