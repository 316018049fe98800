package aggregator

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/rollupstate"
)

// invalidate records [from, to) of a rollup for recomputation, clipped to what is below its
// watermark (what is above is closed by the window pass).
func invalidate(ctx context.Context, tx pgx.Tx, k rollupstate.Key, from, to time.Time) error {
	wm, exists, err := rollupstate.ReadWatermark(ctx, tx, k)
	if err != nil || !exists || !from.Before(wm) {
		return err
	}
	return rollupstate.Invalidate(ctx, tx, k, from, minTime(to, wm).Add(-time.Microsecond))
}

// Aggregate recomputes precision over [from, to) for every table (buckets below the
// watermark are rewritten, windows above it closed up to to), waiting for any other
// aggregator working on the same step. The coarser precisions above are invalidated and
// recomputed by their own steps. With zero from and to it catches that precision up.
func (m *Manager) Aggregate(ctx context.Context, precision period.Precision, from, to time.Time) ([]StepResult, error) {
	if _, err := derived.ParseRollup(string(precision)); err != nil {
		return nil, err
	}
	if !from.IsZero() && !to.After(from) {
		return nil, fmt.Errorf("range %s..%s: --to must be after --from", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	var out []StepResult
	for _, t := range derived.Families {
		k := rollupstate.Key{Table: t, Precision: precision}
		if !from.IsZero() {
			if err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error { return invalidate(ctx, tx, k, from, to) }); err != nil {
				return out, err
			}
		}
		res, err := m.runStep(ctx, k, stepOptions{until: to, wait: true})
		out = append(out, res)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// BackfillProgress is reported after every committed batch of a backfill.
type BackfillProgress struct {
	Table         derived.Family
	Precision     period.Precision
	DoneUntil     time.Time
	Fraction      float64 // of all (table, precision) ranges, 0..1
	RawRows       int64   // raw rows rolled up so far in this run
	Elapsed       time.Duration
	RowsPerSecond float64
	ETA           time.Duration // 0 while unknown
}

// Backfill rebuilds every precision of every table over [from, to) from the raw rows: buckets
// below the watermarks are rewritten and windows above them closed up to to. A precision with
// no watermark yet starts at from. Progress is kept in the database (the pending
// invalidations and backfill_progress), so an interrupted backfill of the same range resumes
// where it stopped. The locks make it safe beside a running daemon.
func (m *Manager) Backfill(ctx context.Context, from, to time.Time, progress func(BackfillProgress)) error {
	if !to.After(from) {
		return fmt.Errorf("range %s..%s: --to must be after --from", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	from, to = from.UTC(), to.UTC()
	span := to.Sub(from)
	done := map[rollupstate.Key]time.Duration{}
	for _, t := range derived.Families {
		if err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error { return m.startBackfill(ctx, tx, t, from, to, done) }); err != nil {
			return fmt.Errorf("start backfill of %s: %w", t, err)
		}
	}
	fraction := func() float64 {
		var sum time.Duration
		for _, d := range done {
			sum += d
		}
		return float64(sum) / float64(span) / float64(len(derived.Families)*len(derived.Rollups))
	}
	start, startFraction := time.Now(), fraction()
	var rawRows int64
	for _, t := range derived.Families {
		for _, p := range derived.Rollups {
			key := rollupstate.Key{Table: t, Precision: p}
			report := func(b Batch) {
				if b.Precision == period.Quarterly {
					rawRows += b.SourceRows
				}
				if d := minTime(b.To, to).Sub(from); d > done[key] {
					done[key] = d
				}
				if _, err := m.pool.Exec(ctx, `
					UPDATE backfill_progress SET done_until = greatest(done_until, $5), rows = rows + $6, updated_at = now()
					WHERE range_from = $1 AND range_to = $2 AND source = $3 AND precision = $4`,
					from, to, t, p, minTime(b.To, to), b.SourceRows); err != nil {
					m.log.Warn("could not store backfill progress", "err", err)
				}
				if progress == nil {
					return
				}
				el := time.Since(start)
				pr := BackfillProgress{Table: t, Precision: p, DoneUntil: minTime(b.To, to), Fraction: fraction(),
					RawRows: rawRows, Elapsed: el, RowsPerSecond: float64(rawRows) / el.Seconds()}
				if f := pr.Fraction - startFraction; f > 0 {
					pr.ETA = time.Duration(float64(el) * (1 - pr.Fraction) / f)
				}
				progress(pr)
			}
			if _, err := m.runStep(ctx, key, stepOptions{until: to, wait: true, progress: report}); err != nil {
				return err
			}
		}
	}
	if _, err := m.pool.Exec(ctx, "DELETE FROM backfill_progress WHERE range_from = $1 AND range_to = $2", from, to); err != nil {
		return fmt.Errorf("clear backfill progress: %w", err)
	}
	return rollupstate.RecordEvent(ctx, m.pool, rollupstate.Event{Kind: rollupstate.EventBackfill,
		From: from, To: to, StartedAt: start, FinishedAt: time.Now(), Rows: rawRows})
}

// startBackfill records the backfill of one table, or finds the one an earlier run started,
// and fills done with what is already done.
func (m *Manager) startBackfill(ctx context.Context, tx pgx.Tx, table derived.Family, from, to time.Time, done map[rollupstate.Key]time.Duration) error {
	var fresh bool
	err := tx.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO backfill_progress (range_from, range_to, source, precision, done_until)
			SELECT $1, $2, $3, p, $1 FROM unnest($4::text[]) p
			ON CONFLICT DO NOTHING RETURNING 1)
		SELECT count(*) > 0 FROM ins`, from, to, table, derived.Rollups).Scan(&fresh)
	if err != nil {
		return fmt.Errorf("record progress: %w", err)
	}
	if !fresh {
		rows, err := tx.Query(ctx, `
			SELECT precision, done_until FROM backfill_progress WHERE range_from = $1 AND range_to = $2 AND source = $3`,
			from, to, table)
		if err != nil {
			return fmt.Errorf("read progress: %w", err)
		}
		var p period.Precision
		var until time.Time
		_, err = pgx.ForEachRow(rows, []any{&p, &until}, func() error {
			done[rollupstate.Key{Table: table, Precision: p}] = until.Sub(from)
			return nil
		})
		if err == nil {
			m.log.Info("resuming backfill", "table", table, "from", from, "to", to)
		}
		return err
	}
	for _, p := range derived.Rollups {
		if err := rollupstate.StartWatermark(ctx, tx, rollupstate.Key{Table: table, Precision: p}, period.Floor(from, p.Step())); err != nil {
			return err
		}
	}
	// Only the quarterly range is recorded: each rewrite invalidates the precision above.
	return invalidate(ctx, tx, rollupstate.Key{Table: table, Precision: period.Quarterly}, from, to)
}
