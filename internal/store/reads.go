package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// What reads do while the read replica is unreachable.
const (
	// FallbackPrimary sends them to the primary, which then carries the read load too.
	FallbackPrimary = "primary"
	// FallbackNone fails them with an error naming the replica, for deployments where the
	// primary must never take the read load.
	FallbackNone = "none"
)

// Fallbacks are the accepted values of the read fallback setting.
var Fallbacks = []string{FallbackPrimary, FallbackNone}

// ErrReplicaDown is what reads fail with when the replica is unreachable and the fallback is
// FallbackNone.
var ErrReplicaDown = errors.New("read replica unreachable")

// ReplicaCheckEvery is how long a replica check is trusted: a replica that dies costs the
// reads of at most this long (and of any query that meets the broken connection) before they
// go to the primary, and a healthy one costs one cheap query per interval.
const ReplicaCheckEvery = time.Second

// replicaCheckTimeout bounds one check, so a replica that hangs is treated as down quickly.
const replicaCheckTimeout = time.Second

// ReplicaStatus is what the plugin's health check, status frames, /metrics and `sview status`
// show about the read replica.
type ReplicaStatus struct {
	Configured bool   `json:"configured"`
	Reachable  bool   `json:"reachable"`
	InRecovery bool   `json:"in_recovery"` // false: the read URL points at a primary
	Fallback   string `json:"fallback"`
	// ReadingPrimary is true while reads go to the primary because the replica is down.
	ReadingPrimary bool      `json:"reading_primary"`
	LagSeconds     float64   `json:"lag_seconds"`
	LastError      string    `json:"last_error,omitempty"`
	CheckedAt      time.Time `json:"checked_at,omitzero"`
}

// replicaLagSQL is the replay lag of a standby: zero when it has replayed all the WAL it
// received (an idle primary sends nothing, and the age of the last replayed transaction would
// grow for nothing), else the age of the last transaction it replayed.
const replicaLagSQL = `SELECT pg_is_in_recovery(),
	CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
	ELSE coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0) END::float8`

// ReplicaLag reads whether db is a standby and how far its replay is behind.
func ReplicaLag(ctx context.Context, db interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) (inRecovery bool, lag time.Duration, err error) {
	var secs float64
	if err := db.QueryRow(ctx, replicaLagSQL).Scan(&inRecovery, &secs); err != nil {
		return false, 0, fmt.Errorf("read the replica's replay lag: %w", err)
	}
	return inRecovery, time.Duration(secs * float64(time.Second)), nil
}

// Reads routes read-only queries to a streaming replica, checked at most every
// ReplicaCheckEvery, and to the primary when there is no replica or, with FallbackPrimary,
// while it is unreachable. It has the methods of a pool that the query service, the answers
// and the HTTP handlers use.
type Reads struct {
	primary, replica *pgxpool.Pool
	fallback         string

	check  sync.Mutex // one check at a time; the others use the last result
	mu     sync.Mutex
	status ReplicaStatus
}

// NewReads routes over primary and replica (nil: no replica). fallback is one of Fallbacks
// ("" is FallbackPrimary).
func NewReads(primary, replica *pgxpool.Pool, fallback string) (*Reads, error) {
	if fallback == "" {
		fallback = FallbackPrimary
	}
	if !slices.Contains(Fallbacks, fallback) {
		return nil, fmt.Errorf("read fallback %q: want one of %s", fallback, strings.Join(Fallbacks, ", "))
	}
	return &Reads{primary: primary, replica: replica, fallback: fallback,
		status: ReplicaStatus{Configured: replica != nil, Fallback: fallback}}, nil
}

// Status is the replica's state as of the last check (checked now when that is too old).
func (r *Reads) Status(ctx context.Context) ReplicaStatus {
	if r.replica != nil {
		r.refresh(ctx)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

// refresh checks the replica when the last check is older than ReplicaCheckEvery.
func (r *Reads) refresh(ctx context.Context) {
	if !r.stale() {
		return
	}
	r.check.Lock()
	defer r.check.Unlock()
	if !r.stale() {
		return // another caller checked while we waited
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), replicaCheckTimeout)
	defer cancel()
	inRecovery, lag, err := ReplicaLag(cctx, r.replica)
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &r.status
	s.CheckedAt = time.Now()
	s.Reachable = err == nil
	s.ReadingPrimary = err != nil && r.fallback == FallbackPrimary
	if err != nil {
		s.LastError = err.Error()
		return
	}
	s.LastError, s.InRecovery, s.LagSeconds = "", inRecovery, lag.Seconds()
}

func (r *Reads) stale() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Since(r.status.CheckedAt) >= ReplicaCheckEvery
}

// forget makes the next read check the replica again: a query met a broken connection.
func (r *Reads) forget() {
	r.mu.Lock()
	r.status.CheckedAt = time.Time{}
	r.mu.Unlock()
}

// pick is the pool the next read goes to.
func (r *Reads) pick(ctx context.Context) (*pgxpool.Pool, error) {
	if r.replica == nil {
		return r.primary, nil
	}
	s := r.Status(ctx)
	switch {
	case s.Reachable:
		return r.replica, nil
	case s.ReadingPrimary:
		return r.primary, nil
	}
	cfg := r.replica.Config().ConnConfig
	return nil, fmt.Errorf("%w at %s:%d (%s); reads do not fall back to the primary (read fallback setting %q)",
		ErrReplicaDown, cfg.Host, cfg.Port, s.LastError, r.fallback)
}

// lostReplica reports whether err from p means the replica went away (the connection broke,
// or the server is shutting down or restarting), as opposed to an error of the query itself;
// it then makes the next read check the replica again.
func (r *Reads) lostReplica(p *pgxpool.Pool, err error) bool {
	if err == nil || p != r.replica || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && !strings.HasPrefix(pgErr.Code, "08") && !strings.HasPrefix(pgErr.Code, "57P") {
		return false
	}
	r.forget()
	return true
}

// retry runs fn where reads go now, and once more where they go after a check when the
// replica was lost under it: with FallbackPrimary that is the primary, so the caller never
// sees the replica's shutdown.
func retry[T any](ctx context.Context, r *Reads, fn func(p *pgxpool.Pool) (T, error)) (T, error) {
	p, err := r.pick(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := fn(p)
	if !r.lostReplica(p, err) {
		return v, err
	}
	if p, err = r.pick(ctx); err != nil {
		var zero T
		return zero, err
	}
	return fn(p)
}

func (r *Reads) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	var used *pgxpool.Pool
	rows, err := retry(ctx, r, func(p *pgxpool.Pool) (pgx.Rows, error) { used = p; return p.Query(ctx, sql, args...) })
	if err != nil {
		return nil, err
	}
	return &retriedRows{Rows: rows, ctx: ctx, r: r, p: used, sql: sql, args: args}, nil
}

// retriedRows retries a query whose connection broke before its first row: pgx reports a
// server that went away under an idle pooled connection only when the rows are read.
type retriedRows struct {
	pgx.Rows
	ctx     context.Context
	r       *Reads
	p       *pgxpool.Pool
	sql     string
	args    []any
	started bool
	err     error
}

func (q *retriedRows) Next() bool {
	if q.err != nil {
		return false
	}
	if q.Rows.Next() {
		q.started = true
		return true
	}
	if q.started || !q.r.lostReplica(q.p, q.Rows.Err()) {
		return false
	}
	q.started = true
	q.Rows.Close()
	p, err := q.r.pick(q.ctx)
	if err != nil {
		q.err = err
		return false
	}
	rows, err := p.Query(q.ctx, q.sql, q.args...)
	if err != nil {
		q.err = err
		return false
	}
	q.Rows, q.p = rows, p
	return q.Rows.Next()
}

func (q *retriedRows) Err() error {
	if q.err != nil {
		return q.err
	}
	return q.Rows.Err()
}

func (r *Reads) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return retriedRow{ctx: ctx, r: r, sql: sql, args: args}
}

func (r *Reads) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return retry(ctx, r, func(p *pgxpool.Pool) (pgconn.CommandTag, error) { return p.Exec(ctx, sql, args...) })
}

// BeginTx opens a read snapshot where reads go now (the engine reads several statements in one).
func (r *Reads) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	return retry(ctx, r, func(p *pgxpool.Pool) (pgx.Tx, error) { return p.BeginTx(ctx, opts) })
}

// Ping checks the pool reads go to now.
func (r *Reads) Ping(ctx context.Context) error {
	_, err := retry(ctx, r, func(p *pgxpool.Pool) (struct{}, error) { return struct{}{}, p.Ping(ctx) })
	return err
}

// retriedRow runs its query when scanned, so a lost replica can be retried like the others.
type retriedRow struct {
	ctx  context.Context
	r    *Reads
	sql  string
	args []any
}

func (q retriedRow) Scan(dest ...any) error {
	_, err := retry(q.ctx, q.r, func(p *pgxpool.Pool) (struct{}, error) {
		return struct{}{}, p.QueryRow(q.ctx, q.sql, q.args...).Scan(dest...)
	})
	return err
}

// MaxReplicaLag is the replay lag beyond which answers read from the replica carry a notice
// and the health checks warn: rollups move every few minutes, so a replica half a minute
// behind still serves the same watermarks almost always.
const MaxReplicaLag = 30 * time.Second

// Lagging reports whether the replica is reachable and more than MaxReplicaLag behind.
func (s ReplicaStatus) Lagging() bool {
	return s.Configured && s.Reachable && s.LagSeconds > MaxReplicaLag.Seconds()
}

// ReplicaMetrics exports the gauges of the Reads last attached to it, for /metrics and the
// plugin's metrics endpoint. Grafana builds a datasource's new instance before it disposes of
// the old one, so the gauges follow an attachment rather than being registered per instance.
type ReplicaMetrics struct {
	reads                 atomic.Pointer[Reads]
	up, lag, readsPrimary *prometheus.Desc
}

// RegisterReplicaMetrics registers the gauges with reg, or returns the ones already there.
func RegisterReplicaMetrics(reg prometheus.Registerer) (*ReplicaMetrics, error) {
	m := &ReplicaMetrics{
		up:           prometheus.NewDesc("sview_read_replica_up", "1 when the read replica answers, else 0.", nil, nil),
		lag:          prometheus.NewDesc("sview_read_replica_lag_seconds", "How far the read replica's replay is behind the primary (the last measured value while it is down).", nil, nil),
		readsPrimary: prometheus.NewDesc("sview_read_replica_fallback_active", "1 while reads go to the primary because the replica is down.", nil, nil),
	}
	if err := reg.Register(m); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*ReplicaMetrics); ok {
				return existing, nil
			}
		}
		return nil, fmt.Errorf("register the replica metrics: %w", err)
	}
	return m, nil
}

// Attach makes the gauges report r.
func (m *ReplicaMetrics) Attach(r *Reads) { m.reads.Store(r) }

// Detach stops reporting r, unless another Reads was attached since.
func (m *ReplicaMetrics) Detach(r *Reads) { m.reads.CompareAndSwap(r, nil) }

func (m *ReplicaMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.up
	ch <- m.lag
	ch <- m.readsPrimary
}

// Collect reports nothing without an attached Reads that has a replica.
func (m *ReplicaMetrics) Collect(ch chan<- prometheus.Metric) {
	r := m.reads.Load()
	if r == nil || r.replica == nil {
		return
	}
	s := r.Status(context.Background())
	flag := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, flag(s.Reachable))
	ch <- prometheus.MustNewConstMetric(m.lag, prometheus.GaugeValue, s.LagSeconds)
	ch <- prometheus.MustNewConstMetric(m.readsPrimary, prometheus.GaugeValue, flag(s.ReadingPrimary))
}
