package aggregator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/twin"
)

// Batch is one committed rewrite of the buckets [From, To) of a (table, precision).
type Batch struct {
	Table      string
	Precision  string
	From, To   time.Time
	SourceRows int64 // raw rows read (quarterly only; 0 above)
	Buckets    int64 // rollup rows written
	Late       bool  // a recomputation of invalidated buckets, not a newly closed window
}

// StepResult sums up one step: invalidations recomputed and windows closed for one
// (table, precision).
type StepResult struct {
	Table      string
	Precision  string
	Skipped    bool // another aggregator holds the worker lock
	From, To   time.Time
	SourceRows int64
	Buckets    int64
	Batches    int
	Late       bool // some batch recomputed invalidated buckets
	Watermark  time.Time
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
}

type stepOptions struct {
	until    time.Time // close windows only up to here; zero: as far as closable
	wait     bool      // wait for the worker lock instead of skipping
	progress func(Batch)
}

// step brings one (table, precision) up to date: first the invalidated buckets below the
// watermark, then every closable window above it, each batch in its own transaction.
func (m *Manager) step(ctx context.Context, table, precision string, opt stepOptions) (res StepResult, err error) {
	res = StepResult{Table: table, Precision: precision}
	idx, err := rollupstate.Index(table, precision)
	if err != nil {
		return res, err
	}
	held, got, err := rollupstate.Hold(ctx, m.pool.Config().ConnConfig, rollupstate.ClassWorker, idx, opt.wait)
	if err != nil {
		return res, fmt.Errorf("take worker lock of %s %s: %w", table, precision, err)
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

	record := func(b Batch) {
		if !b.To.After(b.From) {
			return // invalidations dropped without a rewrite
		}
		res.add(b)
		m.metrics.rows.WithLabelValues(table, precision).Add(float64(b.Buckets))
		if opt.progress != nil {
			opt.progress(b)
		}
	}
	sizes := m.batches(table, precision)
	for {
		start := time.Now()
		b, ok, err := m.recomputeBatch(ctx, conn, table, precision, idx, sizes.span)
		if err != nil {
			return res, fmt.Errorf("recompute invalidated %s %s: %w", table, precision, err)
		}
		if !ok {
			break
		}
		sizes.took(time.Since(start))
		record(b)
	}
	for {
		start := time.Now()
		b, ok, err := m.closeBatch(ctx, conn, table, precision, idx, opt.until, sizes.span)
		if err != nil {
			return res, fmt.Errorf("close windows of %s %s: %w", table, precision, err)
		}
		if !ok {
			break
		}
		sizes.took(time.Since(start))
		record(b)
	}
	wm, _, err := watermark(ctx, conn, table, precision)
	res.Watermark = wm
	return res, err
}

func watermark(ctx context.Context, q rollupstate.Querier, table, precision string) (time.Time, bool, error) {
	var wm time.Time
	err := q.QueryRow(ctx, "SELECT watermark FROM rollup_watermarks WHERE source = $1 AND precision = $2",
		table, precision).Scan(&wm)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read watermark of %s %s: %w", table, precision, err)
	}
	return wm.UTC(), true, nil
}

// inTx runs fn in one transaction holding the exclusive input lock of (table, precision), so
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
func (m *Manager) closeBatch(ctx context.Context, conn *pgxpool.Conn, table, precision string, idx int32, until time.Time, span time.Duration) (b Batch, ok bool, err error) {
	width := bucket(precision)
	err = inTx(ctx, conn, idx, func(tx pgx.Tx) error {
		from, exists, err := watermark(ctx, tx, table, precision)
		if err != nil {
			return err
		}
		if !exists {
			// Daily may start on quarterly rows the hourly step has not reached yet (or on
			// hourly rows whose quarters retention removed): the earliest of both.
			var first *time.Time
			if err := tx.QueryRow(ctx, fmt.Sprintf("SELECT least((SELECT min(time) FROM %s), (SELECT min(time) FROM %s))",
				tableOf(table, sourcePrecision(precision)), tableOf(table, closingSource(precision)))).Scan(&first); err != nil {
				return fmt.Errorf("find first source row: %w", err)
			}
			if first == nil {
				return nil
			}
			from = period.Floor(*first, width)
		}
		limit, err := m.closable(ctx, tx, table, precision)
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
		b, err = m.rewrite(ctx, tx, table, precision, from, to)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO rollup_watermarks (source, precision, watermark, updated_at) VALUES ($1, $2, $3, now())
			ON CONFLICT (source, precision) DO UPDATE SET watermark = EXCLUDED.watermark, updated_at = now()`,
			table, precision, to); err != nil {
			return fmt.Errorf("advance watermark to %s: %w", to.Format(time.RFC3339), err)
		}
		ok = true
		return nil
	})
	return b, ok, err
}

// closable is the end of the last window of a precision that may be closed now: for
// quarterly the last quarter that ended a grace delay ago, for hourly and daily the quarterly
// watermark floored to their bucket.
func (m *Manager) closable(ctx context.Context, q rollupstate.Querier, table, precision string) (time.Time, error) {
	width := bucket(precision)
	src := closingSource(precision)
	if src == "raw" {
		return period.Floor(m.cfg.now().Add(-m.cfg.Grace), width), nil
	}
	wm, exists, err := watermark(ctx, q, table, src)
	if err != nil || !exists {
		return time.Time{}, err
	}
	return period.Floor(wm, width), nil
}

// recomputeBatch rewrites the earliest invalidated buckets of a (table, precision), up to one
// batch span, and removes what it covered from the invalidations.
func (m *Manager) recomputeBatch(ctx context.Context, conn *pgxpool.Conn, table, precision string, idx int32, span time.Duration) (b Batch, ok bool, err error) {
	width := bucket(precision)
	err = inTx(ctx, conn, idx, func(tx pgx.Tx) error {
		var lo *time.Time
		if err := tx.QueryRow(ctx, "SELECT min(from_time) FROM rollup_invalidations WHERE source = $1 AND precision = $2",
			table, precision).Scan(&lo); err != nil {
			return fmt.Errorf("find invalidations: %w", err)
		}
		if lo == nil {
			return nil
		}
		wm, _, err := watermark(ctx, tx, table, precision)
		if err != nil {
			return err
		}
		ok = true
		// Ranges at or above the watermark are closed by the window pass anyway.
		if _, err := tx.Exec(ctx, "DELETE FROM rollup_invalidations WHERE source = $1 AND precision = $2 AND from_time >= $3",
			table, precision, wm); err != nil {
			return fmt.Errorf("clear invalidations: %w", err)
		}
		if !lo.Before(wm) {
			return nil
		}
		from := period.Floor(*lo, width)
		end := from.Add(span)
		var hi time.Time
		if err := tx.QueryRow(ctx, `
			SELECT max(to_time) FROM rollup_invalidations WHERE source = $1 AND precision = $2 AND from_time < $3`,
			table, precision, end).Scan(&hi); err != nil {
			return fmt.Errorf("find invalidations: %w", err)
		}
		to := minTime(minTime(period.Floor(hi, width).Add(width), end), wm)
		// Rows removed by retention must not turn into empty buckets: start at the horizon.
		horizon, err := retentionHorizon(ctx, tx, table, sourcePrecision(precision))
		if err != nil {
			return err
		}
		if horizon != nil && from.Before(period.Ceil(*horizon, width)) {
			from = period.Ceil(*horizon, width)
		}
		if from.Before(to) {
			if b, err = m.rewrite(ctx, tx, table, precision, from, to); err != nil {
				return err
			}
			b.Late = true
		}
		// Everything before `to` is now current: drop what it covers, shorten what sticks out.
		if _, err := tx.Exec(ctx, `
			DELETE FROM rollup_invalidations WHERE source = $1 AND precision = $2 AND from_time < $3 AND to_time < $3`,
			table, precision, to); err != nil {
			return fmt.Errorf("clear invalidations: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE rollup_invalidations SET from_time = $3 WHERE source = $1 AND precision = $2 AND from_time < $3`,
			table, precision, to); err != nil {
			return fmt.Errorf("shrink invalidations: %w", err)
		}
		ok = true
		return nil
	})
	return b, ok, err
}

// rewrite replaces the buckets [from, to) with a fresh GROUP BY of the source (and their
// narrow twin with a GROUP BY of the new rows) and records what it changed as invalidated
// at the coarser precisions that had already read it.
func (m *Manager) rewrite(ctx context.Context, tx pgx.Tx, table, precision string, from, to time.Time) (Batch, error) {
	b := Batch{Table: table, Precision: precision, From: from, To: to}
	dels, ins := rewriteSQL(table, precision)
	args := []any{from, to}
	if src := sourcePrecision(precision); src != closingSource(precision) {
		// Where daily switches from hourly to quarterly rows. Every transaction that changes
		// hourly rows below the hourly watermark takes this step's input lock (shared) before
		// committing, and this one holds it exclusively: those rows stay as read. The hourly
		// step may close new hours meanwhile; they hold the sums of the quarters read instead.
		wm, _, err := watermark(ctx, tx, table, src)
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
	if twin.Has(table, precision) {
		staleFrom, staleTo := twin.Stale(table, precision, from, to)
		if _, err := tx.Exec(ctx, "DELETE FROM twin_buckets WHERE source = $1 AND precision = $2 AND time >= $3 AND time < $4",
			table, precision, staleFrom, staleTo); err != nil {
			return b, fmt.Errorf("unlist twins %s..%s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
		}
		if table == twin.Running.Source() {
			if _, err := tx.Exec(ctx, twin.Running.StaleSQL(precision), from, to); err != nil {
				return b, fmt.Errorf("drop stale running totals %s..%s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
			}
		}
	}
	// Coarser precisions read only rows below this precision's watermark, so closing new
	// windows above it changes nothing they have read: only the part below can be stale there.
	own, _, err := watermark(ctx, tx, table, precision)
	if err != nil {
		return b, err
	}
	changed := minTime(to, own)
	if !from.Before(changed) {
		return b, nil
	}
	// readers come in precision order, so the shared input locks are always taken in the same
	// order (no deadlock), and the lock of daily's source (hourly) is held when daily's turn comes.
	for _, r := range readers(precision) {
		ridx, err := rollupstate.Index(table, r)
		if err != nil {
			return b, err
		}
		// Shared input lock of the reader: its rollup either waits for this commit or has
		// already advanced the watermark read below.
		if err := rollupstate.XactLock(ctx, tx, rollupstate.ClassInput, ridx, true); err != nil {
			return b, fmt.Errorf("take input lock of %s %s: %w", table, r, err)
		}
		lo := from
		if src := sourcePrecision(r); src != precision {
			// r read this precision only above its source's watermark; below it, r read its
			// source, whose own recomputation of this range invalidates r in turn.
			swm, _, err := watermark(ctx, tx, table, src)
			if err != nil {
				return b, err
			}
			lo = maxTime(lo, swm)
		}
		rwm, exists, err := watermark(ctx, tx, table, r)
		if err != nil {
			return b, err
		}
		if hi := minTime(changed, rwm); exists && lo.Before(hi) {
			if _, err := tx.Exec(ctx, `
				INSERT INTO rollup_invalidations (source, precision, from_time, to_time) VALUES ($1, $2, $3, $4)`,
				table, r, lo, hi.Add(-time.Microsecond)); err != nil {
				return b, fmt.Errorf("invalidate %s %s: %w", table, r, err)
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
