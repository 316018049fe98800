package demo

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/ingest"
)

// LiveOptions configure Live.
type LiveOptions struct {
	Rate        float64   // incidents per second (required, > 0)
	Seed        uint64    // the network (probes, attackers) of this seed; sessions also vary with the start time
	Probes      int       // default 300, as Seed
	Attackers   int       // default: one per 200 incidents of a week at Rate, 200 to 200,000
	Progress    io.Writer // a line every ReportEvery; nil for none
	ReportEvery time.Duration
	Tick        time.Duration // how often rows are written (default 1 s)
}

// preRoll is how far back Live starts its sessions, so that traffic is in full swing (sessions
// under way) from the first second instead of ramping up.
const preRoll = 3 * time.Minute

// Live inserts simulated traffic at opts.Rate incidents per second, stamped with the current
// time, until ctx ends (a normal stop: the rows written so far are returned with a nil error).
// Sessions unfold in real time: a brute-forcer's login attempts arrive seconds apart.
func Live(ctx context.Context, pool *pgxpool.Pool, opts LiveOptions) (Result, error) {
	start := time.Now()
	var res Result
	if opts.Rate <= 0 {
		return res, fmt.Errorf("rate must be above 0, got %v", opts.Rate)
	}
	if opts.Probes == 0 {
		opts.Probes = DefaultProbes
	}
	if opts.Attackers == 0 {
		opts.Attackers = int(min(200_000, max(200, opts.Rate*7*86400/200)))
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if opts.ReportEvery <= 0 {
		opts.ReportEvery = 5 * time.Second
	}
	n, ids, res, err := prepare(ctx, pool, opts.Seed, opts.Probes, opts.Attackers)
	if err != nil {
		return res, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return res, fmt.Errorf("connect: %w", err)
	}
	defer conn.Release()

	now := time.Now().UTC()
	day := now.Unix() / 86400
	// #nosec G404 -- math/rand drives the demo simulator, not secrets
	g := n.newGenerator(rand.New(rand.NewPCG(opts.Seed, uint64(now.UnixNano()))),
		rand.New(rand.NewPCG(opts.Seed^0xfeed, uint64(now.UnixNano()))), ids, day)
	g.end = time.Unix(1<<40, 0) // no end: rows wait in g.b until their time comes
	g.budget = 1 << 62
	genFrom := now.Add(-preRoll)
	owed := 0.0      // incidents the rate asks for that no session has produced yet
	owedFeeds := 0.0 // feed events likewise, one per FeedEventsPer incidents
	var w ingest.Writer
	var out ingest.Batch
	var sinceReport ingest.Counts
	lastReport := time.Now()
	ticker := time.NewTicker(opts.Tick)
	defer ticker.Stop()
	for {
		now = time.Now().UTC()
		if d := now.Unix() / 86400; d != day {
			day = d
			g.setDay(day)
		}
		// Start sessions over [genFrom, now) until they carry the incidents the rate asks for.
		owed += opts.Rate * now.Sub(genFrom).Seconds()
		span := now.Sub(genFrom)
		for owed > 0 && span > 0 {
			before := len(g.b.Incidents)
			g.session(genFrom.Add(time.Duration(g.rng.Int64N(int64(span)))))
			owed -= float64(len(g.b.Incidents) - before)
		}
		owedFeeds += opts.Rate / FeedEventsPer * span.Seconds()
		for ; owedFeeds >= 1 && span > 0; owedFeeds-- {
			g.feedEvent(genFrom.Add(time.Duration(g.extra.Int64N(int64(span)))))
		}
		genFrom = now
		// Write what is due; drop what the pre-roll put before the start.
		out.Reset()
		takeDue(g.b, &out, now, start)
		if out.Len() > 0 {
			// A write in flight finishes even when ctx ends, so what is counted is what is stored.
			wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			c, err := writeBatch(wctx, conn, &w, &out)
			wcancel()
			if err != nil {
				res.Duration = time.Since(start)
				return res, fmt.Errorf("demo live: %w", err)
			}
			res.Rows = res.Rows.Add(c)
			sinceReport = sinceReport.Add(c)
		}
		if opts.Progress != nil && time.Since(lastReport) >= opts.ReportEvery {
			el := time.Since(lastReport).Seconds()
			fmt.Fprintf(opts.Progress, "demo live: %d incidents, %d passwords, %d ports, %d commands, %d feed events in the last %.0fs (%.0f incidents/s); %d incidents in all\n",
				sinceReport.Incidents, sinceReport.Passwords, sinceReport.Ports, sinceReport.Commands, sinceReport.FeedEvents, el,
				float64(sinceReport.Incidents)/el, res.Rows.Incidents)
			sinceReport, lastReport = ingest.Counts{}, time.Now()
		}
		select {
		case <-ctx.Done():
			res.Duration = time.Since(start)
			return res, nil
		case <-ticker.C:
		}
	}
}

// takeDue moves the rows of src stamped at or before now into dst, dropping those before
// notBefore; the rest stay in src.
func takeDue(src, dst *ingest.Batch, now, notBefore time.Time) {
	src.Incidents, dst.Incidents = splitDue(src.Incidents, dst.Incidents, now, notBefore, func(r ingest.Incident) time.Time { return r.Time })
	src.Passwords, dst.Passwords = splitDue(src.Passwords, dst.Passwords, now, notBefore, func(r ingest.Password) time.Time { return r.Time })
	src.Ports, dst.Ports = splitDue(src.Ports, dst.Ports, now, notBefore, func(r ingest.Port) time.Time { return r.Time })
	src.Commands, dst.Commands = splitDue(src.Commands, dst.Commands, now, notBefore, func(r ingest.Command) time.Time { return r.Time })
	src.FeedEvents, dst.FeedEvents = splitDue(src.FeedEvents, dst.FeedEvents, now, notBefore, func(r ingest.FeedEvent) time.Time { return r.Time })
}

// splitDue keeps the rows of src after now (in place) and appends to dst those from notBefore
// up to now.
func splitDue[R any](src, dst []R, now, notBefore time.Time, at func(R) time.Time) (kept, due []R) {
	kept = src[:0]
	for _, r := range src {
		switch t := at(r); {
		case t.After(now):
			kept = append(kept, r)
		case !t.Before(notBefore):
			dst = append(dst, r)
		}
	}
	return kept, dst
}
