// Package rollupstate reads and records the state of aggregation: watermarks and lag,
// pending invalidations, locks held and the last result of every job. `sview status`,
// the aggregator and the plugin's status frames share it, so it depends on pgx alone.
package rollupstate

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
)

// Lock classes (the first of the two int4 keys of a lock, see locks.go). The object key of a
// rollup lock is Index(key); the same numbers are hard-coded in the late-data
// triggers (migrations 000010, 000046, 000048).
const (
	// ClassWorker is held for the whole time one aggregator works a (table, precision), at
	// session level, so it vanishes with a dead aggregator's connection.
	ClassWorker int32 = 1398165504
	// ClassInput is taken per transaction: exclusively by the rollup of a precision before it
	// reads its source, and shared by whoever writes that source before reading the watermark.
	ClassInput int32 = 1398165505
	// ClassJob is held at session level while a named job (greylist, leak, retention …) runs.
	ClassJob int32 = 1398165506
)

// Index is the object key of a rollup: family index × 3 + precision index, in the order of
// derived.Families and derived.Rollups.
func Index(k Key) (int32, error) {
	t := slices.Index(derived.Families, k.Table)
	p := slices.Index(derived.Rollups, k.Precision)
	if t < 0 {
		return 0, fmt.Errorf("table %q: want one of %v", k.Table, derived.Families)
	}
	if p < 0 {
		return 0, fmt.Errorf("precision %q: want one of %v", k.Precision, derived.Rollups)
	}
	return int32(t*len(derived.Rollups) + p), nil // #nosec G115 -- at most 3 tables × 3 precisions
}

// JobKey is the object key of a named job's lock.
func JobKey(name string) int32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name)) // a hash.Hash never fails to write
	return int32(h.Sum32() & 0x7fffffff)
}

// Querier is what a pool, a connection and a transaction have in common.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Watermark says up to where a rollup is final.
type Watermark struct {
	Key
	Watermark  time.Time `json:"watermark"`
	UpdatedAt  time.Time `json:"updated_at"`
	LagSeconds float64   `json:"lag_seconds"`
}

// DefaultGrace is how long after its end a quarter is first closed (the aggregator's default
// `--grace`): the original waited 180 s for probes' delayed reports.
const DefaultGrace = 3 * time.Minute

// LateMargin is how far past its due lag a rollup may run before it counts as late: the
// hourly and daily ticks start a minute or two after the grace, and a catch-up takes a while.
const LateMargin = 15 * time.Minute

// DueLag is the largest lag a rollup of precision p reaches when aggregation is on time: its
// watermark moves one bucket at a time, a grace delay after the bucket's end, so just before
// a close it is one bucket plus the grace behind the clock (quarterly 18 min, hourly 1 h 3 min,
// daily 24 h 3 min with the default grace), plus LateMargin for the ticks and the work.
func DueLag(p period.Precision) time.Duration {
	return p.Step() + DefaultGrace + LateMargin
}

// Overdue is how far the rollup is behind beyond its DueLag: zero while it is on time. The
// plugin's status frames carry it (overdue_seconds), the lag alert fires above zero and the
// health check warns on it, so all three agree. An aggregator run with a grace longer than
// DefaultGrace eats into LateMargin.
func (w Watermark) Overdue() time.Duration {
	lag := time.Duration(w.LagSeconds * float64(time.Second))
	return max(0, lag-DueLag(w.Precision))
}

// Invalidation sums up the ranges still waiting to be recomputed at one rollup.
type Invalidation struct {
	Key
	Ranges int64     `json:"ranges"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
}

// Lock is a session lock of sview held or awaited by some connection.
type Lock struct {
	// Kind is "worker", "job" or "ingest".
	Kind        string           `json:"kind"`
	Table       derived.Family   `json:"table,omitempty"`
	Precision   period.Precision `json:"precision,omitempty"`
	Job         string           `json:"job,omitempty"`
	PID         int32            `json:"pid"`
	Application string           `json:"application"`
	Mode        string           `json:"mode"`
	Granted     bool             `json:"granted"`
}

// JobRun is the last outcome of one job.
type JobRun struct {
	Job        string     `json:"job"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt time.Time  `json:"finished_at"`
	OK         bool       `json:"ok"`
	Error      string     `json:"error,omitempty"`
	Rows       int64      `json:"rows"`
	WindowFrom *time.Time `json:"window_from,omitempty"`
	WindowTo   *time.Time `json:"window_to,omitempty"`
	DurationMS int64      `json:"duration_ms"`
}

// Status is everything `sview status` shows.
type Status struct {
	Now           time.Time      `json:"now"`
	Watermarks    []Watermark    `json:"watermarks"`
	Invalidations []Invalidation `json:"invalidations"`
	Locks         []Lock         `json:"locks"`
	Jobs          []JobRun       `json:"jobs"`
}

// Read collects the whole status.
func Read(ctx context.Context, q Querier) (Status, error) {
	var s Status
	if err := q.QueryRow(ctx, "SELECT now()").Scan(&s.Now); err != nil {
		return s, fmt.Errorf("read server time: %w", err)
	}
	var err error
	if s.Watermarks, err = Watermarks(ctx, q); err != nil {
		return s, err
	}
	if s.Invalidations, err = Invalidations(ctx, q); err != nil {
		return s, err
	}
	if s.Jobs, err = Jobs(ctx, q); err != nil {
		return s, err
	}
	names := make([]string, len(s.Jobs))
	for i, j := range s.Jobs {
		names[i] = j.Job
	}
	if s.Locks, err = Locks(ctx, q, names); err != nil {
		return s, err
	}
	return s, nil
}

// Watermarks lists every watermark with its lag behind the database clock.
func Watermarks(ctx context.Context, q Querier) ([]Watermark, error) {
	rows, err := q.Query(ctx, `
		SELECT source, precision, watermark, updated_at, extract(epoch FROM now() - watermark)::float8
		FROM rollup_watermarks
		ORDER BY array_position($1::text[], source), array_position($2::text[], precision)`,
		derived.Families, derived.Rollups)
	if err != nil {
		return nil, fmt.Errorf("read watermarks: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Watermark, error) {
		var w Watermark
		err := r.Scan(&w.Table, &w.Precision, &w.Watermark, &w.UpdatedAt, &w.LagSeconds)
		return w, err
	})
}

// Invalidations sums up the pending invalidated ranges per (table, precision).
func Invalidations(ctx context.Context, q Querier) ([]Invalidation, error) {
	rows, err := q.Query(ctx, `
		SELECT source, precision, count(*), min(from_time), max(to_time)
		FROM rollup_invalidations
		GROUP BY source, precision
		ORDER BY array_position($1::text[], source), array_position($2::text[], precision)`,
		derived.Families, derived.Rollups)
	if err != nil {
		return nil, fmt.Errorf("read invalidations: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Invalidation, error) {
		var v Invalidation
		err := r.Scan(&v.Table, &v.Precision, &v.Ranges, &v.From, &v.To)
		return v, err
	})
}

// Locks lists the session locks (worker, job, ledger) held or awaited in this database, by
// the connections Hold opened; jobs names the jobs whose lock keys should be shown by name.
// Per-transaction locks last one batch and are not listed.
func Locks(ctx context.Context, q Querier, jobs []string) ([]Lock, error) {
	rows, err := q.Query(ctx, `
		SELECT split_part(split_part(application_name, ' ', 2), '/', 1)::int4,
		       split_part(split_part(application_name, ' ', 2), '/', 2)::int4,
		       pid, application_name, coalesce(wait_event_type, '') <> 'Lock'
		FROM pg_stat_activity
		WHERE datname = current_database() AND application_name LIKE $1 || ' %/%'
		ORDER BY 1, 2, pid`, lockAppName)
	if err != nil {
		return nil, fmt.Errorf("read locks: %w", err)
	}
	byKey := map[int32]string{}
	for _, j := range jobs {
		byKey[JobKey(j)] = j
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Lock, error) {
		l := Lock{Mode: "exclusive"}
		var class, obj int32
		if err := r.Scan(&class, &obj, &l.PID, &l.Application, &l.Granted); err != nil {
			return l, err
		}
		switch class {
		case ClassWorker:
			l.Kind = "worker"
			n := int32(len(derived.Rollups)) // #nosec G115 -- three precisions
			if obj >= 0 && int(obj) < len(derived.Families)*len(derived.Rollups) {
				l.Table, l.Precision = derived.Families[obj/n], derived.Rollups[obj%n]
			}
		case ClassJob:
			l.Kind = "job"
			l.Job = byKey[obj]
			if l.Job == "" {
				l.Job = fmt.Sprintf("#%d", obj)
			}
		case ClassLedger:
			l.Kind = "ingest"
			l.Job = fmt.Sprintf("ledger entry %d", obj)
		}
		return l, nil
	})
}

// Jobs lists the last run of every job.
func Jobs(ctx context.Context, q Querier) ([]JobRun, error) {
	rows, err := q.Query(ctx, `
		SELECT job, started_at, finished_at, coalesce(ok, false), coalesce(error, ''), coalesce(rows, 0),
		       window_from, window_to, coalesce(duration_ms, 0)
		FROM job_runs ORDER BY job`)
	if err != nil {
		return nil, fmt.Errorf("read job runs: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (JobRun, error) {
		var j JobRun
		err := r.Scan(&j.Job, &j.StartedAt, &j.FinishedAt, &j.OK, &j.Error, &j.Rows, &j.WindowFrom, &j.WindowTo, &j.DurationMS)
		return j, err
	})
}

// RecordJob stores the outcome of a job run, replacing the previous one.
func RecordJob(ctx context.Context, q Querier, j JobRun) error {
	var errText *string
	if j.Error != "" {
		errText = &j.Error
	}
	_, err := q.Exec(ctx, `
		INSERT INTO job_runs (job, started_at, finished_at, ok, error, rows, window_from, window_to, duration_ms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (job) DO UPDATE SET started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
			ok = EXCLUDED.ok, error = EXCLUDED.error, rows = EXCLUDED.rows, window_from = EXCLUDED.window_from,
			window_to = EXCLUDED.window_to, duration_ms = EXCLUDED.duration_ms`,
		j.Job, j.StartedAt, j.FinishedAt, j.OK, errText, j.Rows, j.WindowFrom, j.WindowTo, j.DurationMS)
	if err != nil {
		return fmt.Errorf("record run of job %s: %w", j.Job, err)
	}
	return nil
}
