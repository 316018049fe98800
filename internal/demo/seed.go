package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/geo"
	"github.com/sview-project/sview/internal/ingest"
)

// Options configure Seed.
type Options struct {
	Days      int       // days of data, ending at End (required, ≥ 1)
	PerDay    int       // incidents per day (required, ≥ 1); passwords, ports and commands rows follow from the sessions, feed events are PerDay/FeedEventsPer
	Seed      uint64    // the same seed, options and End give the same rows
	End       time.Time // end of the last day (default now, to the second)
	Probes    int       // default 300
	Attackers int       // attacker population (default: one per 100 incidents, 200 to 500,000)
	Batch     int       // incidents per COPY transaction (default 100,000)
	Writers   int       // connections writing batches in parallel (default 2)
	Progress  io.Writer // a progress line every couple of seconds; nil for none
}

// Result is what Seed or Live wrote.
type Result struct {
	Rows        ingest.Counts
	Probes      int
	GeoPrefixes int64 // prefixes loaded from the bundled file (0 when geo_prefixes had data)
	Duration    time.Duration
}

func (r Result) String() string {
	rate := 0.0
	if s := r.Duration.Seconds(); s > 0 {
		rate = float64(r.Rows.Total()) / s
	}
	return fmt.Sprintf("%d incidents, %d passwords, %d ports, %d commands, %d feed events (%d rows) for %d probes in %s, %.0f rows/s",
		r.Rows.Incidents, r.Rows.Passwords, r.Rows.Ports, r.Rows.Commands, r.Rows.FeedEvents, r.Rows.Total(), r.Probes,
		r.Duration.Round(time.Millisecond), rate)
}

// DefaultProbes is the size of the simulated network.
const DefaultProbes = 300

func (o *Options) defaults() error {
	if o.Days < 1 {
		return fmt.Errorf("days must be at least 1, got %d", o.Days)
	}
	if o.PerDay < 1 {
		return fmt.Errorf("incidents per day must be at least 1, got %d", o.PerDay)
	}
	if o.End.IsZero() {
		o.End = time.Now()
	}
	o.End = o.End.UTC().Truncate(time.Second)
	if o.Probes == 0 {
		o.Probes = DefaultProbes
	}
	if o.Attackers == 0 {
		o.Attackers = min(500_000, max(200, o.Days*o.PerDay/100))
	}
	if o.Batch <= 0 {
		o.Batch = 100_000
	}
	if o.Writers <= 0 {
		o.Writers = 2
	}
	return nil
}

// Generate produces the rows Seed would write, without a database: identity ids are 1…Probes
// in the order of Network().Probes. For tests and benchmarks.
func Generate(opts Options, emit func(*ingest.Batch) error) (*Network, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	n, err := NewNetwork(opts.Seed, opts.Probes, opts.Attackers)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(n.Probes))
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	for d := range opts.Days {
		start := opts.End.Add(-time.Duration(opts.Days-d) * 24 * time.Hour)
		if err := n.Day(start, opts.PerDay, ids, opts.Batch, emit); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Seed writes opts.Days days of simulated traffic ending at opts.End. It loads the bundled geo
// prefixes first when geo_prefixes is empty and registers the probes. Each batch is one COPY
// transaction; generation runs ahead of the writer in its own goroutine.
func Seed(ctx context.Context, pool *pgxpool.Pool, opts Options) (Result, error) {
	start := time.Now()
	if err := opts.defaults(); err != nil {
		return Result{}, err
	}
	n, ids, res, err := prepare(ctx, pool, opts.Seed, opts.Probes, opts.Attackers)
	if err != nil {
		return res, err
	}

	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan *ingest.Batch, 3)
	genErr := make(chan error, 1)
	go func() {
		defer close(batches)
		for d := range opts.Days {
			day := opts.End.Add(-time.Duration(opts.Days-d) * 24 * time.Hour)
			err := n.Day(day, opts.PerDay, ids, opts.Batch, func(b *ingest.Batch) error {
				select {
				case batches <- b:
					return nil
				case <-gctx.Done():
					return gctx.Err()
				}
			})
			if err != nil {
				genErr <- err
				return
			}
		}
		genErr <- nil
	}()

	// Writers on their own connections take batches in turn: on a small machine the database
	// does most of the work, and two backends keep both cores busy.
	type done struct {
		c   ingest.Counts
		err error
	}
	results := make(chan done)
	for range opts.Writers {
		go func() {
			conn, err := pool.Acquire(gctx)
			if err != nil {
				cancel() // stops the generator, which may be waiting for a writer
				results <- done{err: fmt.Errorf("connect: %w", err)}
				return
			}
			defer conn.Release()
			var w ingest.Writer
			for b := range batches {
				c, err := writeBatch(gctx, conn, &w, b)
				results <- done{c, err}
				if err != nil {
					cancel()
					for range batches { // let the generator finish
					}
					return
				}
			}
			results <- done{err: errWriterDone}
		}()
	}
	total := int64(opts.Days) * int64(opts.PerDay)
	lastProgress := time.Now()
	var firstErr error
	for running := opts.Writers; running > 0; {
		d := <-results
		switch {
		case errors.Is(d.err, errWriterDone):
			running--
			continue
		case d.err != nil:
			if firstErr == nil {
				firstErr = d.err
			}
			running--
			continue
		}
		res.Rows = res.Rows.Add(d.c)
		if opts.Progress != nil && time.Since(lastProgress) >= 2*time.Second {
			lastProgress = time.Now()
			el := time.Since(start)
			frac := float64(res.Rows.Incidents) / float64(total)
			eta := time.Duration(float64(el) * (1 - frac) / max(frac, 1e-9))
			fmt.Fprintf(opts.Progress, "demo seed: %.1f%% (%d of %d incidents, %d rows), %.0f rows/s, ETA %s\n",
				100*frac, res.Rows.Incidents, total, res.Rows.Total(), float64(res.Rows.Total())/el.Seconds(),
				eta.Round(time.Second))
		}
	}
	if firstErr != nil {
		<-genErr
		return res, fmt.Errorf("demo seed: %w", firstErr)
	}
	if err := <-genErr; err != nil {
		return res, fmt.Errorf("demo seed: %w", err)
	}
	res.Duration = time.Since(start)
	return res, nil
}

var errWriterDone = errors.New("writer done")

// writeBatch copies one batch in its own transaction.
func writeBatch(ctx context.Context, conn *pgxpool.Conn, w *ingest.Writer, b *ingest.Batch) (ingest.Counts, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return ingest.Counts{}, err
	}
	defer tx.Rollback(context.Background())
	c, err := w.Copy(ctx, tx, b)
	if err != nil {
		return c, err
	}
	return c, tx.Commit(ctx)
}

// LoadGeoIfEmpty fills geo_prefixes from the bundled file when it has no rows, and returns how
// many prefixes it loaded.
func LoadGeoIfEmpty(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var any bool
	if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM geo_prefixes)").Scan(&any); err != nil {
		return 0, fmt.Errorf("check geo_prefixes: %w", err)
	}
	if any {
		return 0, nil
	}
	rep, err := geo.Import(ctx, pool, bytes.NewReader(GeoTSV), geo.ImportOptions{})
	if err != nil {
		return 0, err
	}
	if rep.Bad > 0 {
		return rep.Prefixes, errors.New("the bundled geo file has bad lines")
	}
	return rep.Prefixes, nil
}

// prepare builds the simulated network of seed, loads the bundled geo prefixes when the
// database has none and registers the probes, returning their identity ids: what Seed and Live
// both need before their first row.
func prepare(ctx context.Context, pool *pgxpool.Pool, seed uint64, probes, attackers int) (*Network, []int64, Result, error) {
	var res Result
	n, err := NewNetwork(seed, probes, attackers)
	if err != nil {
		return nil, nil, res, err
	}
	res.Probes = len(n.Probes)
	if res.GeoPrefixes, err = LoadGeoIfEmpty(ctx, pool); err != nil {
		return nil, nil, res, err
	}
	ids, err := RegisterProbes(ctx, pool, n)
	if err != nil {
		return nil, nil, res, err
	}
	return n, ids, res, nil
}

// RegisterProbes makes sure every simulated probe has an identity and returns the ids in the
// order of n.Probes.
func RegisterProbes(ctx context.Context, pool *pgxpool.Pool, n *Network) ([]int64, error) {
	ids := ingest.NewIdentities(pool)
	out := make([]int64, len(n.Probes))
	for i, p := range n.Probes {
		id, err := ids.ID(ctx, p.Probe)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}
