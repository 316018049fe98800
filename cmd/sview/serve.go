package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sview-project/sview/internal/answer"
	"github.com/sview-project/sview/internal/api"
	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/leak"
	"github.com/sview-project/sview/internal/stats"
	"github.com/sview-project/sview/internal/store"
	"github.com/sview-project/sview/internal/summary"
)

// queryStack is what serve, refresh and cache share: the reads (replica or primary) and the
// query service.
type queryStack struct {
	reads *store.Reads
	pools []*pgxpool.Pool
	stats *stats.Service
}

func (s *queryStack) close() {
	_ = s.stats.Cache().Close() // only fails for a client that is already closed
	for _, p := range s.pools {
		p.Close()
	}
}

// openCache uses Redis when SVIEW_REDIS_URL / --redis-url is set, else an in-process LRU.
func openCache(e *env, reg prometheus.Registerer) (*cache.Cache, error) {
	var rc *cache.RedisConfig
	if e.redisURL != "" {
		c, err := cache.ParseRedisURL(e.redisURL)
		if err != nil {
			return nil, err
		}
		rc = &c
	}
	return cache.Open(rc, cache.Options{Metrics: cache.NewMetrics(reg), Logger: e.logger.With("component", "cache")})
}

// openQueryStack reads from SVIEW_READ_DATABASE_URL (a streaming replica) when set, else from
// the main database. While the replica is down, reads go to the main database, or fail naming
// the replica with SVIEW_READ_FALLBACK=none (then the main database is not needed).
func openQueryStack(ctx context.Context, e *env, app string, reg prometheus.Registerer) (qs *queryStack, err error) {
	qs = &queryStack{}
	defer func() {
		if err != nil {
			for _, p := range qs.pools {
				p.Close()
			}
		}
	}()
	readURL, fallback := os.Getenv("SVIEW_READ_DATABASE_URL"), os.Getenv("SVIEW_READ_FALLBACK")
	var primary, replica *pgxpool.Pool
	if readURL == "" || fallback != store.FallbackNone {
		url, err := e.requireDatabase()
		if err != nil {
			if readURL != "" {
				err = fmt.Errorf("%w (with SVIEW_READ_DATABASE_URL it is where reads go while the replica is down; SVIEW_READ_FALLBACK=none does without)", err)
			}
			return nil, err
		}
		if primary, err = store.Open(ctx, url, app); err != nil {
			return nil, err
		}
		qs.pools = append(qs.pools, primary)
	}
	if readURL != "" {
		if replica, err = store.OpenUnchecked(ctx, readURL, app); err != nil {
			return nil, fmt.Errorf("SVIEW_READ_DATABASE_URL: %w", err)
		}
		qs.pools = append(qs.pools, replica)
	}
	if qs.reads, err = store.NewReads(primary, replica, fallback); err != nil {
		return nil, fmt.Errorf("SVIEW_READ_FALLBACK: %w", err)
	}
	if reg != nil && replica != nil {
		m, err := store.RegisterReplicaMetrics(reg)
		if err != nil {
			return nil, err
		}
		m.Attach(qs.reads)
	}
	c, err := openCache(e, reg)
	if err != nil {
		return nil, err
	}
	qs.stats = stats.New(stats.Config{DB: qs.reads, Cache: c})
	return qs, nil
}

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("serve")
	listen := fs.String("listen", envOr("SVIEW_LISTEN", "127.0.0.1:8080"), "address to serve the public API on (env SVIEW_LISTEN)")
	rate := fs.Float64("rate", api.DefaultRate, "requests per second per client IP; negative disables")
	burst := fs.Int("burst", api.DefaultBurst, "requests a client may send at once")
	maxBody := fs.Int64("max-body", api.DefaultMaxBodyBytes, "largest request body in bytes")
	queryTimeout := fs.Duration("query-timeout", api.DefaultQueryTimeout, "longest a POST /api/query may compute")
	rangeMB := fs.Int64("range-cache-mb", leak.DefaultRangeCacheBytes>>20, "memory for the range API's answers, in MiB")
	rangeRefresh := fs.Duration("range-refresh", leak.DefaultRangeRefresh, "how often the range API looks for a new leak build or import")
	if err := fs.Parse(args); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	qs, err := openQueryStack(ctx, e, "sview-serve", reg)
	if err != nil {
		return err
	}
	defer qs.close()
	log := e.logger.With("component", "api")
	ranges, err := leak.OpenRangeStore(ctx, qs.reads, leak.RangeStoreOptions{MaxBytes: *rangeMB << 20, Refresh: *rangeRefresh,
		OnError: func(err error) { log.Error("range store", "err", err) }})
	if err != nil {
		return err
	}
	// The store polls until serve returns, and stops before the pool it reads closes.
	runCtx, stopRanges := context.WithCancel(ctx)
	var polling sync.WaitGroup
	polling.Go(func() { ranges.Run(runCtx) })
	defer func() { stopRanges(); polling.Wait() }()
	srv := &http.Server{
		Handler: api.Public(api.Deps{DB: qs.reads, Replica: qs.reads, Stats: qs.stats, Gatherer: reg, Logger: log,
			Answers: &answer.Service{Stats: qs.stats, DB: qs.reads, Replica: qs.reads}, QueryTimeout: *queryTimeout,
			Summaries: summary.NewPublisher(qs.reads, qs.stats), Ranges: ranges,
			Limits: api.Limits{Rate: *rate, Burst: *burst, MaxBodyBytes: *maxBody}}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      2 * time.Minute, // a cold year-long resource is computed inline
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	log.Info("serving the public API", "addr", "http://"+ln.Addr().String(), "cache", qs.stats.Cache().Status().Backend)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down the API server: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

func cmdRefresh(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("refresh")
	dry := fs.Bool("dry-run", false, "list the entries that are due without computing them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("refresh: unexpected argument %q", fs.Arg(0))
	}
	return warm(ctx, e, nil, stats.WarmOptions{OnlyDue: true, DryRun: *dry})
}

func cmdCache(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return errors.New("cache: want warm [PRESET [PERIOD]], ls or clear")
	}
	if wantsHelp(args) {
		fmt.Fprintln(e.stderr, "usage: sview cache warm [PRESET [PERIOD]] | ls | clear")
		return flag.ErrHelp
	}
	switch args[0] {
	case "warm":
		if len(args) > 3 {
			return errors.New("cache warm: want at most a preset and a period")
		}
		return warm(ctx, e, args[1:], stats.WarmOptions{})
	case "ls":
		return cacheList(ctx, e)
	case "clear":
		return cacheClear(ctx, e)
	}
	return fmt.Errorf("cache: unknown subcommand %q, want warm, ls or clear", args[0])
}

// warm computes the targets named by args (preset, then period; none = every precached preset
// at every period), one line per target.
func warm(ctx context.Context, e *env, args []string, opts stats.WarmOptions) error {
	var presets, periods []string
	if len(args) > 0 {
		presets = args[:1]
	}
	if len(args) > 1 {
		periods = args[1:2]
	}
	targets, err := stats.Targets(presets, periods)
	if err != nil {
		return err
	}
	if e.redisURL == "" && !opts.DryRun {
		fmt.Fprintln(e.stderr, "note: no Redis configured (SVIEW_REDIS_URL), so results only warm this process's memory and are gone when it exits")
	}
	qs, err := openQueryStack(ctx, e, "sview-cache", nil)
	if err != nil {
		return err
	}
	defer qs.close()
	n := 0
	opts.Progress = func(t stats.Target, o stats.Outcome, took time.Duration, err error) {
		n++
		line := fmt.Sprintf("[%d/%d] %-9s %s %s (%s)", n, len(targets), o, t.Preset, t.Period, took.Round(time.Millisecond))
		if err != nil {
			line += ": " + err.Error()
		}
		fmt.Fprintln(e.stdout, line)
	}
	report, err := qs.stats.Warm(ctx, targets, opts)
	fmt.Fprintf(e.stdout, "%d computed, %d fresh, %d planned, %d failed\n",
		report[stats.Computed], report[stats.Fresh], report[stats.Planned], report[stats.Failed])
	return err
}

func cacheList(ctx context.Context, e *env) error {
	c, err := sharedCache(e)
	if err != nil {
		return err
	}
	defer c.Close()
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KEY\tQUERY\tSIZE\tTTL\tCOMPUTED\tWATERMARK")
	n := 0
	err = c.List(ctx, func(l cache.Listed) error {
		n++
		wm := "-"
		if !l.Header.Watermark.IsZero() {
			wm = l.Header.Watermark.UTC().Format(time.RFC3339)
		}
		_, err := fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\n", l.Key, l.Header.Label, l.Size, l.TTL.Round(time.Second),
			l.Header.ComputedAt.UTC().Format(time.RFC3339), wm)
		return err
	})
	if err != nil {
		return fmt.Errorf("list the cache: %w", err)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d entries\n", n)
	return nil
}

func cacheClear(ctx context.Context, e *env) error {
	c, err := sharedCache(e)
	if err != nil {
		return err
	}
	defer c.Close()
	n, err := c.Clear(ctx)
	if err != nil {
		return fmt.Errorf("clear the cache: %w", err)
	}
	fmt.Fprintf(e.stdout, "deleted %d keys\n", n)
	return nil
}

// sharedCache opens the Redis cache; listing or clearing another process's in-memory cache is
// impossible, so without Redis these commands say so.
func sharedCache(e *env) (*cache.Cache, error) {
	if e.redisURL == "" {
		return nil, errors.New("no Redis configured (SVIEW_REDIS_URL or --redis-url): without it each process keeps its own cache in memory, and there is nothing shared to list or clear")
	}
	return openCache(e, nil)
}
