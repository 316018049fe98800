// Package aggregator keeps the rollups of sview exact: quarterly from raw, hourly from
// quarterly, daily from hourly (and from quarterly where hourly has not got yet), each closed
// once after a grace delay, recomputed when late
// rows arrive, caught up after downtime, and trimmed by retention. Manager runs it all on a
// cron schedule together with other jobs (greylist, leaks, cache warming).
package aggregator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/rollupstate"
)

// DefaultGrace is how long after its end a quarter is first closed: the original waited 180 s
// for probes' delayed reports, and rows later than that are handled as late data. The status
// frames and the health check count a rollup late from it (rollupstate.DueLag).
const DefaultGrace = rollupstate.DefaultGrace

// Job is a scheduled task beside the rollups (greylist, leaked passwords, …). Run returns the
// number of rows it wrote. Only one aggregator runs a job of a given name at a time.
type Job struct {
	Name     string
	Schedule string // cron spec with seconds, e.g. "0 10 * * * *"
	Run      func(ctx context.Context) (rows int64, err error)
}

// Config tunes a Manager; the zero value is usable.
type Config struct {
	Logger *slog.Logger
	// Grace delays the first close of a quarter (default DefaultGrace).
	Grace time.Duration
	// Batch fixes the time span rolled up per transaction for a precision. Unset, the span
	// adapts from quarterly 3 h, hourly 1 day, daily 14 days (see batches).
	Batch map[period.Precision]time.Duration
	// Retention keeps each table ("incidents", "incidents_quarterly", …) this long; absent
	// tables are kept forever.
	Retention Retention
	// RetentionSchedule runs retention (default "0 30 * * * *", every hour).
	RetentionSchedule string
	// TwinBudget bounds each scheduled run of the twin job, which builds the ranked twins of
	// closed hourly and daily buckets after the rollup steps (default DefaultTwinBudget).
	TwinBudget time.Duration
	// Jobs run beside the rollups on their own schedules.
	Jobs []Job
	// OnRollup is called for every step that rewrote buckets, with the range it rewrote (e.g.
	// to warm the cache), once the twin job that follows the steps of `sview run` (its start-up
	// pass or a tick) has run, so what it reads comes from the twins just built. It runs in
	// the tick's goroutine, so keep it short or hand off. Hourly and daily ticks run
	// concurrently, so it may be called from two goroutines at once.
	OnRollup func(ctx context.Context, table derived.Family, precision period.Precision, from, to time.Time)
	// Registerer receives the metrics (default: a registry of the Manager's own).
	Registerer prometheus.Registerer
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

func (c Config) twinBudget() time.Duration {
	if c.TwinBudget > 0 {
		return c.TwinBudget
	}
	return DefaultTwinBudget
}

// batchTarget is how long one batch transaction should take at most when its span adapts:
// it holds the input lock of its (table, precision), which every writer of the source waits
// for.
const batchTarget = time.Second

// batches sizes the batches of one step. A span set in Config.Batch is kept as it is; the
// default one adapts: it doubles (up to 16 times the default) while batches take under a
// quarter of batchTarget, and halves (down to the default) when one takes longer, so catching
// up on thin data takes few transactions, while at Sentinel's density a batch keeps the
// default span.
type batches struct {
	span, min, max time.Duration
	adaptive       bool
}

func (c Config) batches(precision period.Precision) *batches {
	if d := c.Batch[precision]; d >= precision.Step() {
		d = d.Truncate(precision.Step())
		return &batches{span: d, min: d, max: d}
	}
	d := 14 * 24 * time.Hour
	switch precision {
	case period.Quarterly:
		d = 3 * time.Hour
	case period.Hourly:
		d = 24 * time.Hour
	}
	return &batches{span: d, min: d, max: 16 * d, adaptive: true}
}

// took records how long the last batch took and sizes the next one.
func (b *batches) took(d time.Duration) {
	switch {
	case !b.adaptive:
	case d < batchTarget/4:
		b.span = min(2*b.span, b.max)
	case d > batchTarget:
		b.span = max(b.span/2, b.min)
	}
}

// Manager runs the rollups and jobs against one database.
type Manager struct {
	pool    *pgxpool.Pool
	cfg     Config
	log     *slog.Logger
	metrics *metrics

	mu     sync.Mutex
	rolled []rolledRange                // for OnRollup, after the twin job
	sizes  map[rollupstate.Key]*batches // learned across steps
}

// batches returns the batch sizes of (table, precision), as the last step left them. Only the
// step holding that pair's worker lock uses them.
func (m *Manager) batches(k rollupstate.Key) *batches {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sizes[k] == nil {
		if m.sizes == nil {
			m.sizes = map[rollupstate.Key]*batches{}
		}
		m.sizes[k] = m.cfg.batches(k.Precision)
	}
	return m.sizes[k]
}

// rolledRange is what one step rewrote.
type rolledRange struct {
	rollupstate.Key
	from, to time.Time
}

// New checks cfg and builds a Manager.
func New(pool *pgxpool.Pool, cfg Config) (*Manager, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Grace == 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Grace < 0 {
		return nil, fmt.Errorf("grace %s: must not be negative", cfg.Grace)
	}
	if cfg.TwinBudget < 0 {
		return nil, fmt.Errorf("twin budget %s: must not be negative", cfg.TwinBudget)
	}
	if cfg.RetentionSchedule == "" {
		cfg.RetentionSchedule = "0 30 * * * *"
	}
	if err := cfg.Retention.validate(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, j := range cfg.Jobs {
		if j.Name == "" || j.Run == nil {
			return nil, fmt.Errorf("job %q: needs a name and a Run function", j.Name)
		}
		if seen[j.Name] {
			return nil, fmt.Errorf("job %q: defined twice", j.Name)
		}
		seen[j.Name] = true
	}
	m := &Manager{pool: pool, cfg: cfg, log: cfg.Logger.With("component", "aggregator")}
	var err error
	if m.metrics, err = newMetrics(cfg.Registerer, pool); err != nil {
		return nil, err
	}
	return m, nil
}

// CatchUp brings precision and every coarser one up to date for every table: invalidated
// buckets first, then every closable window from the watermark on. Quarterly runs first;
// hourly and daily both close on the quarterly watermark, so they then run side by side (on
// two connections), which keeps the window that ends a day short. Steps another aggregator
// is working on are skipped. Each step's outcome is logged and recorded in job_runs; the
// first error is returned after the other steps have had their turn.
func (m *Manager) CatchUp(ctx context.Context, precision period.Precision) error {
	return m.catchUp(ctx, precision, stepOptions{})
}

func (m *Manager) catchUp(ctx context.Context, precision period.Precision, opt stepOptions) error {
	if _, err := derived.ParseRollup(string(precision)); err != nil {
		return err
	}
	// Precisions sharing a closing source form one stage; the stages run in order, the
	// precisions of a stage concurrently, each over every table.
	var stages [][]period.Precision
	for p, ok := precision, true; ok; p, ok = derived.Coarser(p) {
		if n := len(stages); n > 0 && derived.ClosingSource(stages[n-1][0]) == derived.ClosingSource(p) {
			stages[n-1] = append(stages[n-1], p)
		} else {
			stages = append(stages, []period.Precision{p})
		}
	}
	var errs []error
	for _, stage := range stages {
		stageErrs := make([]error, len(stage))
		late := make([]map[derived.Family]bool, len(stage))
		var wg sync.WaitGroup
		for i, p := range stage {
			late[i] = map[derived.Family]bool{}
			wg.Go(func() {
				for _, t := range derived.Families {
					if ctx.Err() != nil {
						stageErrs[i] = errors.Join(stageErrs[i], ctx.Err())
						return
					}
					res, err := m.runStep(ctx, rollupstate.Key{Table: t, Precision: p}, opt)
					stageErrs[i] = errors.Join(stageErrs[i], err)
					late[i][t] = res.Late
				}
			})
		}
		wg.Wait()
		errs = append(errs, stageErrs...)
		// A recomputation invalidates the next precision of its stage, whose step may have
		// looked for invalidations before it committed: they run once more for that table, so
		// a catch-up still leaves nothing pending.
		for i, p := range stage[1:] {
			for _, t := range derived.Families {
				if late[i][t] && ctx.Err() == nil {
					_, err := m.runStep(ctx, rollupstate.Key{Table: t, Precision: p}, opt)
					errs = append(errs, err)
				}
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

// runStep runs one step with logs, metrics and a job_runs record.
func (m *Manager) runStep(ctx context.Context, k rollupstate.Key, opt stepOptions) (StepResult, error) {
	name := "rollup:" + string(k.Table) + ":" + string(k.Precision)
	start, clock := time.Now(), m.cfg.now()
	res, err := m.step(ctx, k, opt)
	if res.Skipped {
		m.log.Debug("rollup step skipped: another aggregator holds it", "table", k.Table, "precision", k.Precision)
		return res, nil
	}
	if res.Batches == 0 && err == nil {
		return res, nil // nothing due: keep the last real result in job_runs
	}
	run := rollupstate.JobRun{Job: name, StartedAt: start, Rows: res.Buckets}
	if res.Batches > 0 {
		run.WindowFrom, run.WindowTo = &res.From, &res.To
	}
	m.finish(ctx, &run, err)
	m.recordGap(ctx, k, res, opt, clock)
	if res.Batches > 0 && m.cfg.OnRollup != nil {
		m.mu.Lock()
		m.rolled = append(m.rolled, rolledRange{k, res.From, res.To})
		m.mu.Unlock()
	}
	attrs := []any{"table", k.Table, "precision", k.Precision, "from", res.From, "to", res.To,
		"source_rows", res.SourceRows, "rows", res.Buckets, "batches", res.Batches,
		"duration", time.Since(start).Round(time.Millisecond)}
	switch {
	case err == nil:
		m.log.Info("rolled up", attrs...)
	case ctx.Err() != nil:
		m.log.Info("rollup interrupted", attrs...)
	default:
		m.log.Warn("rollup failed", append(attrs, "err", err)...)
	}
	return res, err
}

// recordGap stores the windows a step closed after they were due (rollupstate.Overdue), so
// graphs can show where they lacked data for a while. A backfill records itself, and a first
// step's windows were never due.
func (m *Manager) recordGap(ctx context.Context, k rollupstate.Key, res StepResult, opt stepOptions, started time.Time) {
	if res.Initial || !opt.until.IsZero() || res.ClosedTo.IsZero() {
		return
	}
	from, to, ok := rollupstate.Overdue(k.Precision, res.ClosedFrom, res.ClosedTo, started)
	if !ok {
		return
	}
	m.log.Info("closed windows late", "table", k.Table, "precision", k.Precision, "from", from, "to", to)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := rollupstate.RecordEvent(rctx, m.pool, rollupstate.Event{Kind: rollupstate.EventGap, Table: k.Table,
		Precision: k.Precision, From: from, To: to, StartedAt: started, FinishedAt: m.cfg.now(), Rows: res.Buckets}); err != nil {
		m.log.Warn("could not record the gap", "err", err)
	}
}

// finish completes a job record, stores it and updates the job metrics.
func (m *Manager) finish(ctx context.Context, run *rollupstate.JobRun, err error) {
	run.FinishedAt = time.Now()
	run.DurationMS = run.FinishedAt.Sub(run.StartedAt).Milliseconds()
	run.OK = err == nil
	if err != nil {
		run.Error = err.Error()
		if ctx.Err() == nil {
			m.metrics.failures.WithLabelValues(run.Job).Inc()
		}
	}
	m.metrics.duration.WithLabelValues(run.Job).Observe(run.FinishedAt.Sub(run.StartedAt).Seconds())
	// Recorded even when ctx is done, so an interrupted run shows up as such.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if rerr := rollupstate.RecordJob(rctx, m.pool, *run); rerr != nil {
		m.log.Warn("could not record job result", "job", run.Job, "err", rerr)
	}
}

// runJob runs a named job under its lock, with logs, metrics and a job_runs record.
func (m *Manager) runJob(ctx context.Context, name string, fn func(context.Context) (int64, error)) error {
	held, got, err := rollupstate.Hold(ctx, m.pool.Config().ConnConfig, rollupstate.ClassJob, rollupstate.JobKey(name), false)
	if err != nil {
		return fmt.Errorf("job %s: take lock: %w", name, err)
	}
	if !got {
		m.log.Debug("job skipped: another aggregator runs it", "job", name)
		return nil
	}
	defer held.Release(context.WithoutCancel(ctx))
	run := rollupstate.JobRun{Job: name, StartedAt: time.Now()}
	run.Rows, err = fn(ctx)
	m.finish(ctx, &run, err)
	attrs := []any{"job", name, "rows", run.Rows, "duration", time.Duration(run.DurationMS) * time.Millisecond}
	switch {
	case err == nil:
		m.log.Info("job done", attrs...)
	case ctx.Err() != nil:
		m.log.Info("job interrupted", attrs...)
	default:
		m.log.Warn("job failed", append(attrs, "err", err)...)
	}
	if err != nil {
		return fmt.Errorf("job %s: %w", name, err)
	}
	return nil
}

// cronEntry is one scheduled entry of the daemon.
type cronEntry struct {
	spec string
	fn   func(context.Context) error
}

// schedule returns the cron entries of the daemon. Each rollup tick runs a little after the
// grace delay past its boundary; the tick only triggers a catch-up from the watermark, so a
// missed or late tick loses nothing.
func (m *Manager) schedule() map[string]cronEntry {
	g := m.cfg.Grace
	sec, minute, hour := int(g.Seconds())%60, int(g.Minutes()), int(g.Hours())
	// The twin job follows the rollup steps of every tick, outside their transactions; a run
	// still going from another tick (or aggregator) holds its lock, and this one is skipped.
	catchUp := func(precision period.Precision) func(context.Context) error {
		return func(ctx context.Context) error {
			err := m.CatchUp(ctx, precision)
			if ctx.Err() != nil {
				return err
			}
			err = errors.Join(err, m.runJob(ctx, "twins", m.buildTwins))
			m.announceRollups(ctx)
			return err
		}
	}
	out := map[string]cronEntry{
		"quarterly": {fmt.Sprintf("%d %d/15 * * * *", sec, minute%15), catchUp(period.Quarterly)},
		"hourly":    {fmt.Sprintf("%d %d * * * *", (sec+30)%60, (minute+1)%60), catchUp(period.Hourly)},
		"daily":     {fmt.Sprintf("%d %d %d * * *", sec, (minute+2)%60, hour%24), catchUp(period.Daily)},
		"retention": {m.cfg.RetentionSchedule, func(ctx context.Context) error {
			return m.runJob(ctx, "retention", m.ApplyRetention)
		}},
		// Well before midnight's rows need it, the next days' raw partitions are there.
		"partitions": {"0 5 * * * *", func(ctx context.Context) error {
			return m.runJob(ctx, "partitions", m.MaintainPartitions)
		}},
	}
	for _, j := range m.cfg.Jobs {
		out["job:"+j.Name] = cronEntry{j.Schedule, func(ctx context.Context) error { return m.runJob(ctx, j.Name, j.Run) }}
	}
	return out
}

// Run is the daemon: a catch-up pass at start followed by every job, then the cron schedule,
// until ctx ends. A running step finishes its current transaction or rolls it back; nothing is
// left half done.
func (m *Manager) Run(ctx context.Context) error {
	c := cron.New(cron.WithSeconds(), cron.WithLocation(time.UTC), cron.WithLogger(cronLogger{m.log}),
		cron.WithChain(cron.Recover(cronLogger{m.log}), cron.SkipIfStillRunning(cronLogger{m.log})))
	for name, e := range m.schedule() {
		fn := e.fn
		if _, err := c.AddFunc(e.spec, func() {
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("scheduled run failed", "entry", name, "err", err)
			}
		}); err != nil {
			return fmt.Errorf("schedule %s with %q: %w", name, e.spec, err)
		}
	}
	// Rows that waited in the raw tables' default partitions while no aggregator ran (or came
	// from an import of old data) get their partitions first.
	_ = m.runJob(ctx, "partitions", m.MaintainPartitions) // logged and recorded by runJob
	m.log.Info("aggregator starting: catch-up pass", "grace", m.cfg.Grace)
	if err := m.CatchUp(ctx, period.Quarterly); err != nil && ctx.Err() == nil {
		m.log.Warn("catch-up pass incomplete; the schedule retries", "err", err)
	}
	if ctx.Err() == nil {
		_ = m.runJob(ctx, "twins", m.buildTwins) // logged and recorded by runJob
		m.announceRollups(ctx)
	}
	// The jobs (greylist, leaks) read what the catch-up just rolled up: run them now rather than
	// leave their answers empty or stale until the first scheduled run, up to an hour away.
	for _, j := range m.cfg.Jobs {
		if ctx.Err() == nil {
			_ = m.runJob(ctx, j.Name, j.Run) // logged and recorded by runJob
		}
	}
	if len(m.cfg.Retention) > 0 && ctx.Err() == nil {
		_ = m.runJob(ctx, "retention", m.ApplyRetention) // logged and recorded by runJob
	}
	c.Start()
	<-ctx.Done()
	m.log.Info("aggregator stopping: waiting for running jobs")
	<-c.Stop().Done()
	return nil
}

// announceRollups hands the ranges the steps rewrote since the last call to OnRollup.
func (m *Manager) announceRollups(ctx context.Context) {
	m.mu.Lock()
	rolled := m.rolled
	m.rolled = nil
	m.mu.Unlock()
	for _, r := range rolled {
		if ctx.Err() != nil {
			return
		}
		m.cfg.OnRollup(ctx, r.Table, r.Precision, r.from, r.to)
	}
}

// cronLogger lets robfig/cron log through slog.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}
