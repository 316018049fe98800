package rollupstate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
)

// The state tables of aggregation are read and written here only: rollup_watermarks (up to
// where a rollup is final), rollup_invalidations (ranges below it to recompute), twin_buckets
// (buckets whose ranked twins and sightings are built) and rollup_retention (where retention
// has cut). Every function takes a Querier, so callers choose the transaction it joins.

// Key names one rollup: a table family at a rollup precision.
type Key struct {
	Table     derived.Family   `json:"table"`
	Precision period.Precision `json:"precision"`
}

func (k Key) String() string { return string(k.Table) + " " + string(k.Precision) }

// Span is a half-open time range [From, To).
type Span struct{ From, To time.Time }

// ReadWatermark reads the watermark of k; ok is false when its rollup has not started.
func ReadWatermark(ctx context.Context, q Querier, k Key) (wm time.Time, ok bool, err error) {
	err = q.QueryRow(ctx, "SELECT watermark FROM rollup_watermarks WHERE source = $1 AND precision = $2",
		k.Table, k.Precision).Scan(&wm)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read watermark of %s: %w", k, err)
	}
	return wm.UTC(), true, nil
}

// AdvanceWatermark sets the watermark of k to wm.
func AdvanceWatermark(ctx context.Context, q Querier, k Key, wm time.Time) error {
	if _, err := q.Exec(ctx, `
		INSERT INTO rollup_watermarks (source, precision, watermark, updated_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (source, precision) DO UPDATE SET watermark = EXCLUDED.watermark, updated_at = now()`,
		k.Table, k.Precision, wm); err != nil {
		return fmt.Errorf("advance watermark of %s to %s: %w", k, wm.Format(time.RFC3339), err)
	}
	return nil
}

// StartWatermark sets the watermark of k to wm unless it has one.
func StartWatermark(ctx context.Context, q Querier, k Key, wm time.Time) error {
	if _, err := q.Exec(ctx, `
		INSERT INTO rollup_watermarks (source, precision, watermark) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, k.Table, k.Precision, wm); err != nil {
		return fmt.Errorf("start watermark of %s: %w", k, err)
	}
	return nil
}

// Invalidate records [from, to] (closed at both ends, as the late-data triggers record) of k
// for recomputation.
func Invalidate(ctx context.Context, q Querier, k Key, from, to time.Time) error {
	if _, err := q.Exec(ctx, `
		INSERT INTO rollup_invalidations (source, precision, from_time, to_time) VALUES ($1, $2, $3, $4)`,
		k.Table, k.Precision, from, to); err != nil {
		return fmt.Errorf("invalidate %s: %w", k, err)
	}
	return nil
}

// OldestInvalidation is the start of the earliest pending invalidation of k; nil when none.
func OldestInvalidation(ctx context.Context, q Querier, k Key) (*time.Time, error) {
	var lo *time.Time
	if err := q.QueryRow(ctx, "SELECT min(from_time) FROM rollup_invalidations WHERE source = $1 AND precision = $2",
		k.Table, k.Precision).Scan(&lo); err != nil {
		return nil, fmt.Errorf("find invalidations of %s: %w", k, err)
	}
	return lo, nil
}

// InvalidatedThrough is the latest end of the invalidations of k that start before t.
func InvalidatedThrough(ctx context.Context, q Querier, k Key, t time.Time) (time.Time, error) {
	var hi time.Time
	if err := q.QueryRow(ctx, `
		SELECT max(to_time) FROM rollup_invalidations WHERE source = $1 AND precision = $2 AND from_time < $3`,
		k.Table, k.Precision, t).Scan(&hi); err != nil {
		return hi, fmt.Errorf("find invalidations of %s: %w", k, err)
	}
	return hi, nil
}

// DropInvalidationsFrom removes the invalidations of k that start at or after t.
func DropInvalidationsFrom(ctx context.Context, q Querier, k Key, t time.Time) error {
	if _, err := q.Exec(ctx, "DELETE FROM rollup_invalidations WHERE source = $1 AND precision = $2 AND from_time >= $3",
		k.Table, k.Precision, t); err != nil {
		return fmt.Errorf("clear invalidations of %s: %w", k, err)
	}
	return nil
}

// ResolveInvalidationsBefore records that k is current before t: invalidations that end before
// it go, those that straddle it start at it.
func ResolveInvalidationsBefore(ctx context.Context, q Querier, k Key, t time.Time) error {
	if _, err := q.Exec(ctx, `
		DELETE FROM rollup_invalidations WHERE source = $1 AND precision = $2 AND from_time < $3 AND to_time < $3`,
		k.Table, k.Precision, t); err != nil {
		return fmt.Errorf("clear invalidations of %s: %w", k, err)
	}
	if _, err := q.Exec(ctx, `
		UPDATE rollup_invalidations SET from_time = $3 WHERE source = $1 AND precision = $2 AND from_time < $3`,
		k.Table, k.Precision, t); err != nil {
		return fmt.Errorf("shrink invalidations of %s: %w", k, err)
	}
	return nil
}

// PendingInvalidations lists the invalidations of k that touch [from, until).
func PendingInvalidations(ctx context.Context, q Querier, k Key, from, until time.Time) ([]Span, error) {
	rows, err := q.Query(ctx, `SELECT from_time, to_time FROM rollup_invalidations
		WHERE source = $1 AND precision = $2 AND from_time < $4 AND to_time >= $3`, k.Table, k.Precision, from, until)
	if err != nil {
		return nil, fmt.Errorf("read pending recomputations of %s: %w", k, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Span, error) {
		var s Span
		err := r.Scan(&s.From, &s.To)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("read pending recomputations of %s: %w", k, err)
	}
	return out, nil
}

// ListTwins records that the twins of k's bucket at t are built.
func ListTwins(ctx context.Context, q Querier, k Key, at time.Time) error {
	if _, err := q.Exec(ctx, `
		INSERT INTO twin_buckets (source, precision, time) VALUES ($1, $2, $3)
		ON CONFLICT (source, precision, time) DO UPDATE SET built_at = now()`, k.Table, k.Precision, at); err != nil {
		return fmt.Errorf("list the twins of %s at %s: %w", k, at.Format(time.RFC3339), err)
	}
	return nil
}

// UnlistTwins removes the listing of k's buckets in [from, to); a zero from means every bucket
// before to.
func UnlistTwins(ctx context.Context, q Querier, k Key, from, to time.Time) error {
	if _, err := q.Exec(ctx, "DELETE FROM twin_buckets WHERE source = $1 AND precision = $2 AND time >= $3 AND time < $4",
		k.Table, k.Precision, from, to); err != nil {
		return fmt.Errorf("unlist the twins of %s %s..%s: %w", k, from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	return nil
}

// TwinListed reports whether the twins of k's bucket at t are built.
func TwinListed(ctx context.Context, q Querier, k Key, at time.Time) (bool, error) {
	var listed bool
	if err := q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM twin_buckets WHERE source = $1 AND precision = $2 AND time = $3)",
		k.Table, k.Precision, at).Scan(&listed); err != nil {
		return false, fmt.Errorf("read the twin listing of %s at %s: %w", k, at.Format(time.RFC3339), err)
	}
	return listed, nil
}

// ListedTwins returns the buckets of k in [from, until) whose twins are built.
func ListedTwins(ctx context.Context, q Querier, k Key, from, until time.Time) (map[time.Time]bool, error) {
	rows, err := q.Query(ctx, "SELECT time FROM twin_buckets WHERE source = $1 AND precision = $2 AND time >= $3 AND time < $4",
		k.Table, k.Precision, from, until)
	if err != nil {
		return nil, fmt.Errorf("read twin buckets of %s: %w", k, err)
	}
	listed := map[time.Time]bool{}
	var t time.Time
	_, err = pgx.ForEachRow(rows, []any{&t}, func() error {
		listed[t.UTC()] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read twin buckets of %s: %w", k, err)
	}
	return listed, nil
}

// UnlistedTwins lists the buckets of k in [lo, hi) whose twins are not built, newest first.
func UnlistedTwins(ctx context.Context, q Querier, k Key, lo, hi time.Time) ([]time.Time, error) {
	if !lo.Before(hi) {
		return nil, nil
	}
	rows, err := q.Query(ctx, `
		SELECT b FROM generate_series($4::timestamptz - make_interval(secs => $5), $3::timestamptz, -make_interval(secs => $5)) b
		WHERE NOT EXISTS (SELECT 1 FROM twin_buckets t WHERE t.source = $1 AND t.precision = $2 AND t.time = b)
		ORDER BY b DESC`, k.Table, k.Precision, lo, hi, k.Precision.Step().Seconds())
	if err != nil {
		return nil, fmt.Errorf("find buckets of %s without twins: %w", k, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (time.Time, error) {
		var t time.Time
		err := r.Scan(&t)
		return t.UTC(), err
	})
	if err != nil {
		return nil, fmt.Errorf("find buckets of %s without twins: %w", k, err)
	}
	return out, nil
}

// Horizon is where retention has cut k (raw included); nil when it never has.
func Horizon(ctx context.Context, q Querier, k Key) (*time.Time, error) {
	var horizon *time.Time
	err := q.QueryRow(ctx, "SELECT horizon FROM rollup_retention WHERE source = $1 AND precision = $2",
		k.Table, k.Precision).Scan(&horizon)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("read retention horizon of %s: %w", k, err)
	}
	return horizon, nil
}

// RaiseHorizon records that retention cuts k before limit (a horizon never moves back).
func RaiseHorizon(ctx context.Context, q Querier, k Key, limit time.Time) error {
	if _, err := q.Exec(ctx, `
		INSERT INTO rollup_retention (source, precision, horizon) VALUES ($1, $2, $3)
		ON CONFLICT (source, precision) DO UPDATE
		SET horizon = greatest(rollup_retention.horizon, EXCLUDED.horizon), updated_at = now()`,
		k.Table, k.Precision, limit); err != nil {
		return fmt.Errorf("record horizon of %s: %w", k, err)
	}
	return nil
}
