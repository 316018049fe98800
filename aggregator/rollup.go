package aggregator

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/twin"
)

// Batch is one committed rewrite of the buckets [From, To) of a (table, precision).
type Batch struct {
	Table      derived.Family
	Precision  period.Precision
	From, To   time.Time
	SourceRows int64 // raw rows read (quarterly only; 0 above)
	Buckets    int64 // rollup rows written
	Late       bool  // a recomputation of invalidated buckets, not a newly closed window
}

// StepResult sums up one step: invalidations recomputed and windows closed for one
// (table, precision).
type StepResult struct {
	Table      derived.Family
	Precision  period.Precision
	Skipped    bool // another aggregator holds the worker lock
	From, To   time.Time
	SourceRows int64
	Buckets    int64
	Batches    int
	Late       bool // some batch recomputed invalidated buckets
	Watermark  time.Time
	// ClosedFrom and ClosedTo span the windows newly closed (not recomputed); Initial marks a
	// step that found no watermark, whose first windows were never due.
	ClosedFrom, ClosedTo time.Time
	Initial              bool
}

func (r *StepResult) add(b Batch) {
	if r.Batches == 0 || b.From.Before(r.From) {
		r.From = b.From
	}
	if b.To.After(r.To) {
		r.To = b.To
	}
	r.SourceRows += b.SourceRows
	r.Buckets += b.Buckets
	r.Batches++
	r.Late = r.Late || b.Late
	if !b.Late {
		if r.ClosedTo.IsZero() || b.From.Before(r.ClosedFrom) {
			r.ClosedFrom = b.From
		}
		if b.To.After(r.ClosedTo) {
			r.ClosedTo = b.To
		}
	}
}

type stepOptions struct {
	until    time.Time // close windows only up to here; zero: as far as closable
	wait     bool      // wait for the worker lock instead of skipping
	progress func(Batch)
}

// step brings one (table, precision) up to date: first the invalidated buckets below the
// watermark, then every closable window above it, each batch in its own transaction.
func (m *Manager) step(ctx context.Context, k rollupstate.Key, opt stepOptions) (res StepResult, err error) {
	res = StepResult{Table: k.Table, Precision: k.Precision}
	idx, err := rollupstate.Index(k)
	if err != nil {
		return res, err
	}
	held, got, err := rollupstate.Hold(ctx, m.pool.Config().ConnConfig, rollupstate.ClassWorker, idx, opt.wait)
	if err != nil {
		return res, fmt.Errorf("take worker lock of %s: %w", k, err)
	}
	if !got {
		res.Skipped = true
		return res, nil
	}
	defer held.Release(context.WithoutCancel(ctx))
	conn, err := m.pool.Acquire(ctx)
	if err != nil {
		return res, fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	_, known, err := rollupstate.ReadWatermark(ctx, conn, k)
	if err != nil {
		return res, err
	}
	res.Initial = !known

	record := func(b Batch) {
		if !b.To.After(b.From) {
			return // invalidations dropped without a rewrite
		}
		res.add(b)
		m.metrics.rows.WithLabelValues(string(k.Table), string(k.Precision)).Add(float64(b.Buckets))
		if opt.progress != nil {
			opt.progress(b)
		}
	}
	sizes := m.batches(k)
	for {
		start := time.Now()
		b, ok, err := m.recomputeBatch(ctx, conn, k, idx, sizes.span)
		if err != nil {
			return res, fmt.Errorf("recompute invalidated %s: %w", k, err)
		}
		if !ok {
			break
		}
		sizes.took(time.Since(start))
		record(b)
	}
	for {
		start := time.Now()
		b, ok, err := m.closeBatch(ctx, conn, k, idx, opt.until, sizes.span)
		if err != nil {
			return res, fmt.Errorf("close windows of %s: %w", k, err)
		}
		if !ok {
			break
		}
		sizes.took(time.Since(start))
		record(b)
	}
	wm, _, err := rollupstate.ReadWatermark(ctx, conn, k)
	res.Watermark = wm
	return res, err
}

// inTx runs fn in one transaction holding the exclusive input lock of a rollup, so
// no writer of its source can slip rows past the watermark meanwhile, and no build of its
// ranked twins reads the rows it rewrites (see buildTwinBucket).
func inTx(ctx context.Context, conn *pgxpool.Conn, idx int32, fn func(pgx.Tx) error) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // no-op after commit
	if err := rollupstate.XactLock(ctx, tx, rollupstate.ClassInput, idx, false); err != nil {
		return fmt.Errorf("take input lock: %w", err)
	}
	// The planner overestimates the geo lookup per group and would JIT-compile a statement
	// that runs in milliseconds; compiling cost 0.5 s per batch in the benchmarks.
	if _, err := tx.Exec(ctx, "SET LOCAL jit = off"); err != nil {
		return fmt.Errorf("disable JIT: %w", err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// closeBatch rolls up the next closable windows above the watermark and advances it.
func (m *Manager) closeBatch(ctx context.Context, conn *pgxpool.Conn, k rollupstate.Key, idx int32, until time.Time, span time.Duration) (b Batch, ok bool, err error) {
	width := k.Precision.Step()
	rollup := derived.RollupOf(k.Table)
	err = inTx(ctx, conn, idx, func(tx pgx.Tx) error {
		from, exists, err := rollupstate.ReadWatermark(ctx, tx, k)
		if err != nil {
			return err
		}
		if !exists {
			// Daily may start on quarterly rows the hourly step has not reached yet (or on
			// hourly rows whose quarters retention removed): the earliest of both.
			var first *time.Time
			if err := tx.QueryRow(ctx, fmt.Sprintf("SELECT least((SELECT min(time) FROM %s), (SELECT min(time) FROM %s))",
				rollup.Name(derived.RolledFrom(k.Precision)), rollup.Name(derived.ClosingSource(k.Precision)))).Scan(&first); err != nil {
				return fmt.Errorf("find first source row: %w", err)
			}
			if first == nil {
				return nil
			}
			from = period.Floor(*first, width)
		}
		limit, err := m.closable(ctx, tx, k)
		if err != nil {
			return err
		}
		if !until.IsZero() && period.Floor(until, width).Before(limit) {
			limit = period.Floor(until, width)
		}
		to := from.Add(span)
		if limit.Before(to) {
			to = limit
		}
		if !to.After(from) {
			return nil
		}
		b, err = m.rewrite(ctx, tx, k, from, to)
		if err != nil {
			return err
		}
		if err := rollupstate.AdvanceWatermark(ctx, tx, k, to); err != nil {
			return err
		}
		ok = true
		return nil
	})
	return b, ok, err
}

// closable is the end of the last window of a precision that may be closed now: for
// quarterly the last quarter that ended a grace delay ago, for hourly and daily the quarterly
// watermark floored to their bucket.
func (m *Manager) closable(ctx context.Context, q rollupstate.Querier, k rollupstate.Key) (time.Time, error) {
	width := k.Precision.Step()
	src := derived.ClosingSource(k.Precision)
	if src == period.Raw {
		return period.Floor(m.cfg.now().Add(-m.cfg.Grace), width), nil
	}
	wm, exists, err := rollupstate.ReadWatermark(ctx, q, rollupstate.Key{Table: k.Table, Precision: src})
	if err != nil || !exists {
		return time.Time{}, err
	}
	return period.Floor(wm, width), nil
}

// recomputeBatch rewrites the earliest invalidated buckets of a (table, precision), up to one
// batch span, and removes what it covered from the invalidations.
func (m *Manager) recomputeBatch(ctx context.Context, conn *pgxpool.Conn, k rollupstate.Key, idx int32, span time.Duration) (b Batch, ok bool, err error) {
	width := k.Precision.Step()
	err = inTx(ctx, conn, idx, func(tx pgx.Tx) error {
		lo, err := rollupstate.OldestInvalidation(ctx, tx, k)
		if err != nil || lo == nil {
			return err
		}
		wm, _, err := rollupstate.ReadWatermark(ctx, tx, k)
		if err != nil {
			return err
		}
		ok = true
		// Ranges at or above the watermark are closed by the window pass anyway.
		if err := rollupstate.DropInvalidationsFrom(ctx, tx, k, wm); err != nil {
			return err
		}
		if !lo.Before(wm) {
			return nil
		}
		from := period.Floor(*lo, width)
		end := from.Add(span)
		hi, err := rollupstate.InvalidatedThrough(ctx, tx, k, end)
		if err != nil {
			return err
		}
		to := minTime(minTime(period.Floor(hi, width).Add(width), end), wm)
		// Rows removed by retention must not turn into empty buckets: start at the horizon.
		horizon, err := rollupstate.Horizon(ctx, tx, rollupstate.Key{Table: k.Table, Precision: derived.RolledFrom(k.Precision)})
		if err != nil {
			return err
		}
		if horizon != nil && from.Before(period.Ceil(*horizon, width)) {
			from = period.Ceil(*horizon, width)
		}
		if from.Before(to) {
			if b, err = m.rewrite(ctx, tx, k, from, to); err != nil {
				return err
			}
			b.Late = true
		}
		// Everything before `to` is now current: drop what it covers, shorten what sticks out.
		if err := rollupstate.ResolveInvalidationsBefore(ctx, tx, k, to); err != nil {
			return err
		}
		ok = true
		return nil
	})
	return b, ok, err
}

// rewrite replaces the buckets [from, to) with a fresh GROUP BY of the source (and their
// narrow twin with a GROUP BY of the new rows) and records what it changed as invalidated
// at the coarser precisions that had already read it.
func (m *Manager) rewrite(ctx context.Context, tx pgx.Tx, k rollupstate.Key, from, to time.Time) (Batch, error) {
	b := Batch{Table: k.Table, Precision: k.Precision, From: from, To: to}
	dels, ins := rewriteSQL(k.Table, k.Precision)
	args := []any{from, to}
	if src := derived.RolledFrom(k.Precision); src != derived.ClosingSource(k.Precision) {
		// Where daily switches from hourly to quarterly rows. Every transaction that changes
		// hourly rows below the hourly watermark takes this step's input lock (shared) before
		// committing, and this one holds it exclusively: those rows stay as read. The hourly
		// step may close new hours meanwhile; they hold the sums of the quarters read instead.
		wm, _, err := rollupstate.ReadWatermark(ctx, tx, rollupstate.Key{Table: k.Table, Precision: src})
		if err != nil {
			return b, err
		}
		args = append(args, maxTime(from, minTime(wm, to)))
	}
	for _, del := range dels {
		if _, err := tx.Exec(ctx, del, from, to); err != nil {
			return b, fmt.Errorf("delete buckets %s..%s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
		}
	}
	if err := tx.QueryRow(ctx, ins, args...).Scan(&b.SourceRows, &b.Buckets); err != nil {
		return b, fmt.Errorf("roll up %s..%s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	// The twins of these buckets (and the sightings of the lookback after them) no longer match
	// them: unlisted in the same transaction, readers fall back to the wide rows until the twin
	// job rebuilds them. This transaction holds the input lock of (table, precision)
	// exclusively, which keeps builds out of it (see buildTwinBucket).
	if derived.TwinsAt(k.Table, k.Precision) {
		staleFrom, staleTo := twin.Stale(k.Table, k.Precision, from, to)
		if err := rollupstate.UnlistTwins(ctx, tx, k, staleFrom, staleTo); err != nil {
			return b, err
		}
		if k.Table == twin.Running.Family() {
			if _, err := tx.Exec(ctx, twin.Running.StaleSQL(k.Precision), from, to); err != nil {
				return b, fmt.Errorf("drop stale running totals %s..%s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
			}
		}
	}
	// Coarser precisions read only rows below this precision's watermark, so closing new
	// windows above it changes nothing they have read: only the part below can be stale there.
	own, _, err := rollupstate.ReadWatermark(ctx, tx, k)
	if err != nil {
		return b, err
	}
	changed := minTime(to, own)
	if !from.Before(changed) {
		return b, nil
	}
	// readers come in precision order, so the shared input locks are always taken in the same
	// order (no deadlock), and the lock of daily's source (hourly) is held when daily's turn comes.
	for _, r := range derived.Readers(k.Precision) {
		reader := rollupstate.Key{Table: k.Table, Precision: r}
		ridx, err := rollupstate.Index(reader)
		if err != nil {
			return b, err
		}
		// Shared input lock of the reader: its rollup either waits for this commit or has
		// already advanced the watermark read below.
		if err := rollupstate.XactLock(ctx, tx, rollupstate.ClassInput, ridx, true); err != nil {
			return b, fmt.Errorf("take input lock of %s: %w", reader, err)
		}
		lo := from
		if src := derived.RolledFrom(r); src != k.Precision {
			// r read this precision only above its source's watermark; below it, r read its
			// source, whose own recomputation of this range invalidates r in turn.
			swm, _, err := rollupstate.ReadWatermark(ctx, tx, rollupstate.Key{Table: k.Table, Precision: src})
			if err != nil {
				return b, err
			}
			lo = maxTime(lo, swm)
		}
		rwm, exists, err := rollupstate.ReadWatermark(ctx, tx, reader)
		if err != nil {
			return b, err
		}
		if hi := minTime(changed, rwm); exists && lo.Before(hi) {
			if err := rollupstate.Invalidate(ctx, tx, reader, lo, hi.Add(-time.Microsecond)); err != nil {
				return b, err
			}
		}
	}
	return b, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
