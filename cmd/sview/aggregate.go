package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/sview-project/sview/aggregator"
	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/greylist"
	"github.com/sview-project/sview/internal/leak"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/report"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/stats"
	"github.com/sview-project/sview/internal/store"
)

// aggregatorApp names the aggregator commands' connections in pg_stat_activity.
const aggregatorApp = "sview-aggregator"

// openManager connects and builds the aggregator for a one-off command; closePool releases the
// connections.
func openManager(ctx context.Context, e *env, grace time.Duration) (m *aggregator.Manager, closePool func(), err error) {
	pool, err := openPool(ctx, e, aggregatorApp)
	if err != nil {
		return nil, nil, err
	}
	if m, err = aggregator.New(pool, aggregator.Config{Logger: e.logger, Grace: grace}); err != nil {
		pool.Close()
		return nil, nil, err
	}
	return m, pool.Close, nil
}

func cmdRun(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("run")
	grace, err := graceFlag(fs)
	if err != nil {
		return err
	}
	listen := fs.String("metrics-listen", envOr("SVIEW_METRICS_LISTEN", "127.0.0.1:9464"), "Prometheus metrics address; empty disables (env SVIEW_METRICS_LISTEN)")
	retain := fs.String("retain", os.Getenv("SVIEW_RETAIN"), "retention per table, e.g. incidents=90d,incidents_quarterly=30d; default keeps everything (env SVIEW_RETAIN)")
	greylistAt := fs.String("greylist-schedule", envOr("SVIEW_GREYLIST_SCHEDULE", "0 10 * * * *"), "cron spec (with seconds) of the greylist build; empty disables")
	leakAt := fs.String("leak-schedule", envOr("SVIEW_LEAK_SCHEDULE", "0 5/15 * * * *"), "cron spec (with seconds) of the leaked-password build; empty disables")
	reportAt := fs.String("report-schedule", envOr("SVIEW_REPORT_SCHEDULE", "0 0 6 * * *"), "cron spec (with seconds) of the reports to abuse contacts (each run sends what is due); empty disables (env SVIEW_REPORT_SCHEDULE)")
	rf, err := addReportFlags(fs)
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	retention, err := aggregator.ParseRetention(*retain)
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, e, aggregatorApp)
	if err != nil {
		return err
	}
	defer pool.Close()
	var jobs []aggregator.Job
	if *greylistAt != "" {
		jobs = append(jobs, aggregator.Job{Name: "greylist", Schedule: *greylistAt, Run: func(ctx context.Context) (int64, error) {
			r, err := greylist.Build(ctx, pool, greylist.Options{Logger: e.logger})
			return int64(r.Entries), err
		}})
	}
	if *leakAt != "" {
		jobs = append(jobs, aggregator.Job{Name: "leak", Schedule: *leakAt, Run: func(ctx context.Context) (int64, error) {
			r, err := leak.Build(ctx, pool, leak.Options{Grace: *grace, Logger: e.logger})
			return r.Hashes, err
		}})
	}
	if *reportAt != "" {
		opts, err := rf.options(e)
		if err != nil {
			return err
		}
		if opts.SMTP == nil {
			e.logger.Info("reports: no SMTP server configured (SVIEW_SMTP_URL): e-mails are skipped, webhooks are sent")
		}
		// The job's lock is report.JobName's, the one `sview report` takes.
		jobs = append(jobs, aggregator.Job{Name: report.JobName, Schedule: *reportAt, Run: func(ctx context.Context) (int64, error) {
			r, err := report.Run(ctx, pool, opts)
			return int64(r.Sent), err
		}})
	}
	cfg := aggregator.Config{Logger: e.logger, Grace: *grace, Retention: retention, Jobs: jobs}
	if e.redisURL != "" {
		c, warm, err := newWarmer(e, pool)
		if err != nil {
			return err
		}
		defer c.Close()
		cfg.OnRollup = warm
	}
	m, err := aggregator.New(pool, cfg)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return m.Run(gctx) })
	if *listen != "" {
		g.Go(func() error { return m.ServeMetrics(gctx, *listen) })
	}
	return g.Wait()
}

// newWarmer fills the shared Redis cache after each rollup step, for the presets that read the
// rewritten table and precision. Without Redis there is no cache shared with Grafana to warm.
func newWarmer(e *env, pool *pgxpool.Pool) (*cache.Cache, func(context.Context, derived.Family, period.Precision, time.Time, time.Time), error) {
	rc, err := cache.ParseRedisURL(e.redisURL)
	if err != nil {
		return nil, nil, err
	}
	c, err := cache.Open(&rc, cache.Options{})
	if err != nil {
		return nil, nil, err
	}
	s := stats.New(stats.Config{DB: pool, Cache: c})
	return c, func(ctx context.Context, table derived.Family, precision period.Precision, _, _ time.Time) {
		n, err := s.WarmSource(ctx, table, precision)
		if err != nil && ctx.Err() == nil {
			e.logger.Warn("cache warming failed", "table", table, "precision", precision, "err", err)
			return
		}
		e.logger.Debug("cache warmed", "table", table, "precision", precision, "entries", n)
	}, nil
}

func cmdAggregate(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New("aggregate: want a precision: quarterly, hourly or daily")
	}
	precision, err := derived.ParseRollup(args[0])
	if err != nil {
		return fmt.Errorf("aggregate: %w", err)
	}
	fs := e.newFlags("aggregate " + args[0])
	from, to := timeFlag(fs, "from", "start of the range to recompute (RFC 3339 or YYYY-MM-DD)"), timeFlag(fs, "to", "end of the range (exclusive)")
	grace, err := graceFlag(fs)
	if err != nil {
		return err
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if from.IsZero() != to.IsZero() {
		return errors.New("aggregate: give both --from and --to, or neither to catch up to now")
	}
	m, closePool, err := openManager(ctx, e, *grace)
	if err != nil {
		return err
	}
	defer closePool()
	results, err := m.Aggregate(ctx, precision, from.Time, to.Time)
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TABLE\tPRECISION\tFROM\tTO\tSOURCE ROWS\tROWS\tWATERMARK")
	for _, r := range results {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", r.Table, r.Precision, fmtTime(r.From), fmtTime(r.To), r.SourceRows, r.Buckets, fmtTime(r.Watermark))
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

func cmdBackfill(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("backfill")
	from, to := timeFlag(fs, "from", "start of the range (RFC 3339 or YYYY-MM-DD); required"), timeFlag(fs, "to", "end of the range (exclusive); default now")
	grace, err := graceFlag(fs)
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if from.IsZero() {
		return errors.New("backfill: --from is required")
	}
	if to.IsZero() {
		to.Time = time.Now().UTC()
	}
	m, closePool, err := openManager(ctx, e, *grace)
	if err != nil {
		return err
	}
	defer closePool()
	due := everySecond()
	err = m.Backfill(ctx, from.Time, to.Time, func(p aggregator.BackfillProgress) {
		if !due() {
			return
		}
		eta := "?"
		if p.ETA > 0 {
			eta = p.ETA.Round(time.Second).String()
		}
		fmt.Fprintf(e.stderr, "\rbackfill %5.1f%%  %-9s %-9s at %s  %d raw rows  %.0f rows/s  ETA %s   ",
			100*p.Fraction, p.Table, p.Precision, p.DoneUntil.Format("2006-01-02 15:04"), p.RawRows, p.RowsPerSecond, eta)
	})
	fmt.Fprintln(e.stderr)
	if err != nil {
		return err
	}
	// The ranked twins of the backfilled buckets, so the range is fast to query right away.
	due = everySecond()
	twins, err := m.BuildTwins(ctx, aggregator.TwinOptions{From: from.Time, To: to.Time, Progress: func(p aggregator.TwinProgress) {
		if due() {
			fmt.Fprintf(e.stderr, "\rtwins %d buckets built, %d left  %-9s %-9s at %s   ",
				p.Built, p.Left, p.Table, p.Precision, p.Bucket.Format("2006-01-02 15:04"))
		}
	}})
	fmt.Fprintln(e.stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backfill of %s..%s done, twins of %d buckets built, running totals of %d\n",
		from.Format(time.RFC3339), to.Format(time.RFC3339), twins.Built, twins.Running)
	return nil
}

// everySecond returns a check that answers true at most once a second, for progress lines.
func everySecond() func() bool {
	var last time.Time
	return func() bool {
		if time.Since(last) < time.Second {
			return false
		}
		last = time.Now()
		return true
	}
}

func cmdStatus(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("status")
	asJSON := fs.Bool("json", false, "print JSON")
	tables := fs.Bool("tables", false, "list the derived tables (the registry of internal/derived) and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tables {
		return printTables(e)
	}
	pool, err := openPool(ctx, e, aggregatorApp)
	if err != nil {
		return err
	}
	defer pool.Close()
	s, err := rollupstate.Read(ctx, pool)
	if err != nil {
		return err
	}
	twins, err := aggregator.TwinStatus(ctx, pool)
	if err != nil {
		return err
	}
	replica, err := replicaStatus(ctx, pool)
	if err != nil {
		return err
	}
	partitions, err := aggregator.PartitionStatus(ctx, pool)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			rollupstate.Status
			Twins      []aggregator.TwinLag       `json:"twins"`
			Replica    *store.ReplicaStatus       `json:"replica,omitempty"`
			Partitions []aggregator.PartitionStat `json:"partitions,omitempty"`
		}{s, twins, replica, partitions})
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	if replica != nil {
		state := "up"
		if !replica.Reachable {
			state = "DOWN: " + replica.LastError
		}
		fmt.Fprintf(w, "READ REPLICA (SVIEW_READ_DATABASE_URL)\nSTATE\tREPLAY LAG\tSTANDBY\n%s\t%s\t%t\n\n", state,
			time.Duration(replica.LagSeconds*float64(time.Second)).Round(time.Millisecond), replica.InRecovery)
	}
	fmt.Fprintln(w, "WATERMARKS\nTABLE\tPRECISION\tWATERMARK\tLAG\tUPDATED")
	for _, m := range s.Watermarks {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", m.Table, m.Precision, fmtTime(m.Watermark),
			(time.Duration(m.LagSeconds) * time.Second).String(), fmtTime(m.UpdatedAt))
	}
	fmt.Fprintln(w, "\nPENDING INVALIDATIONS\nTABLE\tPRECISION\tRANGES\tFROM\tTO")
	for _, v := range s.Invalidations {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", v.Table, v.Precision, v.Ranges, fmtTime(v.From), fmtTime(v.To))
	}
	fmt.Fprintln(w, "\nRANKED TWINS\nTABLE\tPRECISION\tCLOSED\tPENDING\tNEWEST PENDING\tRUNNING TOTALS THROUGH")
	for _, l := range twins {
		newest, running := "-", "-"
		if l.NewestPending != nil {
			newest = fmtTime(*l.NewestPending)
		}
		if l.RunningThrough != nil {
			running = fmtTime(*l.RunningThrough)
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%s\n", l.Table, l.Precision, l.Closed, l.Pending, newest, running)
	}
	if len(partitions) > 0 {
		fmt.Fprintln(w, "\nRAW PARTITIONS (one per UTC day)\nTABLE\tDAYS\tFROM\tTO\tROWS FROM BEFORE THE UPGRADE, UNTIL\tWAITING IN DEFAULT")
		optional := func(t *time.Time) string {
			if t == nil {
				return "-"
			}
			return fmtTime(*t)
		}
		for _, p := range partitions {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%d\n", p.Table, p.Days, optional(p.From), optional(p.To), optional(p.Legacy), p.Waiting)
		}
	}
	fmt.Fprintln(w, "\nLOCKS\nKIND\tWHAT\tPID\tAPPLICATION\tMODE\tGRANTED")
	for _, l := range s.Locks {
		what := l.Job
		if l.Table != "" {
			what = string(l.Table) + " " + string(l.Precision)
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%t\n", l.Kind, what, l.PID, l.Application, l.Mode, l.Granted)
	}
	fmt.Fprintln(w, "\nJOBS\nJOB\tFINISHED\tOK\tROWS\tWINDOW\tDURATION\tERROR")
	for _, j := range s.Jobs {
		window := ""
		if j.WindowFrom != nil && j.WindowTo != nil {
			window = fmtTime(*j.WindowFrom) + ".." + fmtTime(*j.WindowTo)
		}
		fmt.Fprintf(w, "%s\t%s\t%t\t%d\t%s\t%s\t%s\n", j.Job, fmtTime(j.FinishedAt), j.OK, j.Rows, window,
			(time.Duration(j.DurationMS) * time.Millisecond).String(), j.Error)
	}
	return w.Flush()
}

// replicaStatus checks the read replica of SVIEW_READ_DATABASE_URL, when one is configured;
// nil without one. A replica that is down is a state to show, not an error of the command.
func replicaStatus(ctx context.Context, primary *pgxpool.Pool) (*store.ReplicaStatus, error) {
	url := os.Getenv("SVIEW_READ_DATABASE_URL")
	if url == "" {
		return nil, nil
	}
	replica, err := store.OpenUnchecked(ctx, url, aggregatorApp)
	if err != nil {
		return nil, fmt.Errorf("SVIEW_READ_DATABASE_URL: %w", err)
	}
	defer replica.Close()
	reads, err := store.NewReads(primary, replica, os.Getenv("SVIEW_READ_FALLBACK"))
	if err != nil {
		return nil, fmt.Errorf("SVIEW_READ_FALLBACK: %w", err)
	}
	st := reads.Status(ctx)
	return &st, nil
}

// flagTime is a time flag taking RFC 3339 or a bare UTC date.
type flagTime struct{ time.Time }

func (f *flagTime) String() string {
	if f.IsZero() {
		return ""
	}
	return f.Format(time.RFC3339)
}

func (f *flagTime) Set(s string) error {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			f.Time = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("time %q: want RFC 3339 (2024-05-01T10:00:00Z) or a UTC date (2024-05-01)", s)
}

func timeFlag(fs *flag.FlagSet, name, usage string) *flagTime {
	f := &flagTime{}
	fs.Var(f, name, usage)
	return f
}

// graceFlag defines --grace with its default from SVIEW_GRACE; a bad value there is an error.
func graceFlag(fs *flag.FlagSet) (*time.Duration, error) {
	def := aggregator.DefaultGrace
	if v := os.Getenv("SVIEW_GRACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("SVIEW_GRACE %q: want a duration such as 3m", v)
		}
		def = d
	}
	return fs.Duration("grace", def, "delay before a quarter is first closed (env SVIEW_GRACE)"), nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// printTables lists every derived table with its keys, what it answers and how it is retained,
// so an operator can see what the aggregator writes without reading the migrations.
func printTables(e *env) error {
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KIND\tTABLES\tKEYS\tANSWERS\tRETAINED")
	for _, t := range derived.All {
		names := make([]string, len(t.Precisions))
		for i, p := range t.Precisions {
			names[i] = t.Name(p)
		}
		keys := strings.Join(t.Keys, ", ")
		if t.Sums != "" {
			keys = "sums of its " + t.Sums + " twin"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Kind, strings.Join(names, " "), keys, t.Answers, t.Retention())
	}
	return w.Flush()
}
