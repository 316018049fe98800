package leak

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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
	From, To time.Time // raw time range hashed, [From, To); equal when there was nothing to do
	Rows     int64     // raw rows hashed
	Hashes   int64     // hashes inserted or updated in passwords_pwned
	Duration time.Duration
}

// Build hashes the raw passwords captured since the last run into passwords_pwned: each
// (password, trap) adds its summed raw_count to the hash's count and the trap's data source
// (sentinel.SourceOfTrap; a NULL trap or one without a source adds none) to its sources.
//
// Progress is a high-water mark on passwords.time in leak_watermark that advances in the same
// transaction as the merge, so running twice never counts a row twice and an interrupted run
// resumes where it stopped. Rows that arrive later than Grace with a time below the mark are
// not counted (see docs/leak.md).
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
	if _, err := pool.Exec(ctx, `INSERT INTO leak_watermark (watermark)
		SELECT min(time) FROM passwords HAVING min(time) IS NOT NULL
		ON CONFLICT (id) DO NOTHING`); err != nil {
		return Result{}, fmt.Errorf("leak build: initialise watermark: %w", err)
	}
	res := Result{}
	for first := true; ; first = false {
		from, to, rows, hashes, err := buildStep(ctx, pool, upto, opts.Step)
		if err != nil {
			return res, fmt.Errorf("leak build: %w", err)
		}
		if first {
			res.From = from.UTC()
		}
		res.To = to.UTC()
		res.Rows += rows
		res.Hashes += hashes
		if !to.After(from) {
			break
		}
		if opts.Logger != nil {
			opts.Logger.Info("leak build step", "from", from, "to", to, "rows", rows, "hashes", hashes)
		}
	}
	res.Duration = time.Since(start)
	return res, nil
}

// buildStep hashes [watermark, min(watermark+step, upto)) in one transaction; from == to means
// the mark has reached upto (or no password was ever captured).
func buildStep(ctx context.Context, pool *pgxpool.Pool, upto time.Time, step time.Duration) (from, to time.Time, rows, hashes int64, err error) {
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// The row lock serialises builders: a second one waits, then sees the advanced mark.
		err := tx.QueryRow(ctx, `SELECT watermark FROM leak_watermark FOR UPDATE`).Scan(&from)
		if errors.Is(err, pgx.ErrNoRows) {
			from, to = upto, upto
			return nil
		}
		if err != nil {
			return fmt.Errorf("read watermark: %w", err)
		}
		if !from.Before(upto) {
			to = from
			return nil
		}
		to = from.Add(step)
		if to.After(upto) {
			to = upto
		}
		entries, n, err := capturedEntries(ctx, tx, from, to)
		if err != nil {
			return err
		}
		rows = n
		i := 0
		if hashes, err = merge(ctx, tx, func() (Entry, bool, error) {
			if i == len(entries) {
				return Entry{}, false, nil
			}
			i++
			return entries[i-1], true, nil
		}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE leak_watermark SET watermark = $1, rows = rows + $2, updated_at = now()`, to, rows); err != nil {
			return fmt.Errorf("advance watermark: %w", err)
		}
		return nil
	})
	return from, to, rows, hashes, err
}

// capturedEntries sums the raw passwords of [from, to) per (password, trap) and hashes them.
// The result is held in memory because the merge needs the same connection.
func capturedEntries(ctx context.Context, tx pgx.Tx, from, to time.Time) ([]Entry, int64, error) {
	rs, err := tx.Query(ctx, `SELECT password, trap::text, sum(coalesce(raw_count, 1))::bigint, count(*)
		FROM passwords WHERE time >= $1 AND time < $2
		GROUP BY password, trap HAVING sum(coalesce(raw_count, 1)) > 0`, from, to)
	if err != nil {
		return nil, 0, fmt.Errorf("read passwords [%s, %s): %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
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
			return nil, 0, fmt.Errorf("read passwords: %w", err)
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
	if err := rs.Err(); err != nil {
		return nil, 0, fmt.Errorf("read passwords: %w", err)
	}
	return entries, rows, nil
}
