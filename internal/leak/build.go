package leak

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/sentinel"
)

// Defaults of the builder.
const (
	// DefaultGrace matches the aggregator's: rows younger than this wait for the next run, so
	// a probe report still in flight is not missed.
	DefaultGrace = 3 * time.Minute
	// DefaultStep is the span of raw time hashed per transaction, so a first run over years of
	// data commits as it goes and can be interrupted without losing the work done.
	DefaultStep = 24 * time.Hour
)

// Options of Build; the zero value uses the defaults.
type Options struct {
	Now    time.Time     // end of the data considered, before Grace; zero: time.Now()
	Grace  time.Duration // zero: DefaultGrace
	Step   time.Duration // zero: DefaultStep
	Logger *slog.Logger  // nil: no progress logs
}

// Result says what one Build did.
type Result struct {
	From, To time.Time // raw time range hashed, [From, To); equal when there was nothing new
	Rows     int64     // raw rows hashed from that range
	Late     int64     // (password, trap) pairs that arrived below the mark, taken from leak_pending
	Hashes   int64     // hashes inserted or updated in passwords_pwned (summed over steps)
	Duration time.Duration
}

// Build hashes the raw passwords captured since the last run into passwords_pwned: each
// (password, trap) adds its summed raw_count to the hash's count and the trap's data source
// (sentinel.SourceOfTrap; a NULL trap or one without a source adds none) to its sources.
//
// Progress is a high-water mark on passwords.time in leak_watermark that advances in the same
// transaction as the merge, so running twice never counts a row twice and an interrupted run
// resumes where it stopped. Rows inserted later with a time below the mark are kept by a trigger
// in leak_pending and added by the next run.
func Build(ctx context.Context, pool *pgxpool.Pool, opts Options) (Result, error) {
	start := time.Now()
	if opts.Now.IsZero() {
		opts.Now = start
	}
	if opts.Grace == 0 {
		opts.Grace = DefaultGrace
	}
	if opts.Step <= 0 {
		opts.Step = DefaultStep
	}
	// PostgreSQL keeps microseconds; a finer mark would never be reached once stored.
	upto := opts.Now.Add(-opts.Grace).Truncate(time.Microsecond)
	// The first run starts at the oldest captured password; with none there is nothing to mark.
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := rollupstate.XactLock(ctx, tx, rollupstate.ClassLeak, 0, false); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO leak_watermark (watermark)
			SELECT min(time) FROM passwords HAVING min(time) IS NOT NULL
			ON CONFLICT (id) DO NOTHING`)
		return err
	}); err != nil {
		return Result{}, fmt.Errorf("leak build: initialise watermark: %w", err)
	}
	res := Result{}
	for first := true; ; first = false {
		st, err := buildStep(ctx, pool, upto, opts.Step)
		if err != nil {
			return res, fmt.Errorf("leak build: %w", err)
		}
		if first {
			res.From = st.from.UTC()
		}
		res.To = st.to.UTC()
		res.Rows += st.rows
		res.Late += st.late
		res.Hashes += st.hashes
		if st.done {
			break
		}
		if opts.Logger != nil {
			opts.Logger.Info("leak build step", "from", st.from, "to", st.to, "rows", st.rows, "late", st.late, "hashes", st.hashes)
		}
	}
	res.Duration = time.Since(start)
	return res, nil
}

type step struct {
	from, to           time.Time
	rows, late, hashes int64
	done               bool // nothing was left to do
}

// buildStep, in one transaction, drains leak_pending and hashes [watermark, min(watermark+step,
// upto)); done when the mark had reached upto and nothing was pending.
func buildStep(ctx context.Context, pool *pgxpool.Pool, upto time.Time, span time.Duration) (st step, err error) {
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// Waits for writers that may still add rows below upto, and holds off new ones until
		// the advanced mark is committed.
		if err := rollupstate.XactLock(ctx, tx, rollupstate.ClassLeak, 0, false); err != nil {
			return fmt.Errorf("take builder lock: %w", err)
		}
		err := tx.QueryRow(ctx, `SELECT watermark FROM leak_watermark`).Scan(&st.from)
		if errors.Is(err, pgx.ErrNoRows) { // no password was ever captured
			st.from, st.to, st.done = upto, upto, true
			return nil
		}
		if err != nil {
			return fmt.Errorf("read watermark: %w", err)
		}
		// Late counts (password, trap) pairs: a hypertable's row trigger keeps one pending row
		// per raw row, a plain table's statement trigger one per pair and statement.
		entries, late, err := hashRows(ctx, tx, `WITH d AS (DELETE FROM leak_pending RETURNING password, trap, raw_count)
			SELECT password, trap::text, sum(raw_count)::bigint, 1::bigint FROM d GROUP BY password, trap`)
		if err != nil {
			return fmt.Errorf("drain late rows: %w", err)
		}
		st.late = late
		st.to = st.from
		if st.from.Before(upto) {
			st.to = st.from.Add(span)
			if st.to.After(upto) {
				st.to = upto
			}
			more, rows, err := hashRows(ctx, tx, `SELECT password, trap::text, sum(coalesce(raw_count, 1))::bigint, count(*)
				FROM passwords WHERE time >= $1 AND time < $2
				GROUP BY password, trap HAVING sum(coalesce(raw_count, 1)) > 0`, st.from, st.to)
			if err != nil {
				return fmt.Errorf("read passwords [%s, %s): %w", st.from.Format(time.RFC3339), st.to.Format(time.RFC3339), err)
			}
			entries, st.rows = append(entries, more...), rows
		}
		if !st.to.After(st.from) && len(entries) == 0 {
			st.done = true
			return nil
		}
		i := 0
		if st.hashes, err = merge(ctx, tx, func() (Entry, bool, error) {
			if i == len(entries) {
				return Entry{}, false, nil
			}
			i++
			return entries[i-1], true, nil
		}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE leak_watermark SET watermark = $1, rows = rows + $2, updated_at = now()`,
			st.to, st.rows+st.late); err != nil {
			return fmt.Errorf("advance watermark: %w", err)
		}
		return nil
	})
	return st, err
}

// hashRows runs a query answering (password, trap, count, raw rows) and hashes each password.
// The result is held in memory because the merge needs the same connection.
func hashRows(ctx context.Context, tx pgx.Tx, sql string, args ...any) ([]Entry, int64, error) {
	rs, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, err
	}
	var (
		entries []Entry
		rows    int64
	)
	for rs.Next() {
		var (
			password string
			trap     *string
			count, n int64
		)
		if err := rs.Scan(&password, &trap, &count, &n); err != nil {
			rs.Close()
			return nil, 0, err
		}
		e := Entry{Hash: HashPassword(password), Count: count}
		if trap != nil {
			if src, ok := sentinel.SourceOfTrap(*trap); ok {
				e.Sources = []string{src}
			}
		}
		entries = append(entries, e)
		rows += n
	}
	return entries, rows, rs.Err()
}
