package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sview-project/sview/internal/demo"
	"github.com/sview-project/sview/internal/geo"
	"github.com/sview-project/sview/internal/ingest"
)

func cmdIngest(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("ingest")
	follow := fs.Bool("follow", false, "keep reading the file as it grows, like tail -F, until interrupted")
	sn := fs.String("sn", "", "sshd: serial number of the probe the log belongs to (default: derived from the host name); haas: of sessions without sn/device_token")
	token := fs.String("token", "", "sshd, haas: device token (64 lowercase hex) of that probe")
	probe := fs.String("probe", "", "haas: host name whose derived probe gets the sessions without sn/device_token (default haas)")
	provider := fs.String("provider", "", "idea: feed provider stored with every event (default none)")
	year := fs.Int("year", 0, "sshd: year of syslog time stamps that have none (default: the latest that is not in the future)")
	batch := fs.Int("batch", 100_000, "rows per COPY transaction")
	maxBad := fs.Int("show-bad", 20, "bad lines to print with their numbers (all are counted)")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: sview ingest minipot|fwlogs|faillogs|sshd|idea|intelmq|haas FILE|- [flags]")
		fmt.Fprintln(e.stderr, "  JSON lines (minipot, fwlogs, faillogs) carry sn and device_token; sshd reads an auth.log.")
		fmt.Fprintln(e.stderr, "  idea (IDEA messages) and intelmq (IntelMQ events) are one JSON object a line, stored as feed events;")
		fmt.Fprintln(e.stderr, "  haas reads HaaS sessions as JSON lines (incidents, passwords, commands). See docs/ingest.md.")
		fmt.Fprintln(e.stderr, "  The same content is ingested once; --follow resumes at its saved offset.")
		fmt.Fprintf(e.stderr, "  Exit code %d when lines were read but none was loaded (every line bad or skipped, or empty input).\n", exitNoData)
		fs.PrintDefaults()
	}
	pos, err := parseAll(fs, args, 2)
	if err != nil {
		return err
	}
	opts := ingest.Options{Format: pos[0], Path: pos[1], Follow: *follow, Year: *year, BatchRows: *batch, MaxBad: *maxBad,
		Host: *probe, Provider: *provider}
	if *sn != "" || *token != "" {
		opts.Probe = &ingest.Probe{SN: *sn, Token: *token}
	}
	if !*quiet {
		opts.Progress = e.stderr
	}
	pool, err := openPool(ctx, e, "sview-ingest")
	if err != nil {
		return err
	}
	defer pool.Close()
	rep, err := ingest.Run(ctx, pool, opts)
	if rep != nil {
		rep.Summary(e.stdout)
	}
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	// Nothing new after a resumed position, or content seen before, is not a failure.
	if !rep.AlreadyIngested && rep.OK == 0 && (rep.Lines > 0 || rep.StartLine == 0) {
		return &exitError{exitNoData, fmt.Errorf("ingest: loaded no good line of %d read (%d bad, %d skipped)", rep.Lines, rep.Bad, rep.Skipped)}
	}
	return nil
}

func importGeo(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("import geo")
	maxBad := fs.Int("show-bad", 20, "bad lines to print with their numbers (all are counted)")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: sview import geo FILE|-")
		fmt.Fprintln(e.stderr, "  iptoasn TSV (range_start range_end AS_number country_code AS_description), plain or gzip;")
		fmt.Fprintln(e.stderr, "  replaces the contents of geo_prefixes in one transaction.")
		fs.PrintDefaults()
	}
	pos, err := parseAll(fs, args, 1)
	if err != nil {
		return err
	}
	in, pool, done, err := openImport(ctx, e, pos[0])
	if err != nil {
		return fmt.Errorf("import geo: %w", err)
	}
	defer done()
	rep, err := geo.Import(ctx, pool, in, geo.ImportOptions{MaxBad: *maxBad, Progress: e.stderr})
	if err != nil {
		return err
	}
	rep.Summary(e.stdout)
	return nil
}

func cmdDemo(ctx context.Context, e *env, args []string) error {
	usage := func() {
		fmt.Fprintln(e.stderr, "usage: sview demo seed --days N --per-day R [--seed S] [--end TIME] [--probes N]")
		fmt.Fprintln(e.stderr, "       sview demo live --rate R [--seed S] [--probes N]")
	}
	if len(args) == 0 {
		usage()
		return errors.New("demo: want seed or live")
	}
	fs := e.newFlags("demo " + args[0])
	seed := fs.Uint64("seed", 1, "random seed: the same seed and flags give the same data")
	probes := fs.Int("probes", demo.DefaultProbes, "number of simulated probes")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	var progress io.Writer = e.stderr
	switch args[0] {
	case "seed":
		days := fs.Int("days", 7, "days of data")
		perDay := fs.Int("per-day", 100_000, "incidents per day")
		end := fs.String("end", "", "end of the last day, RFC 3339 or YYYY-MM-DD (default now)")
		if _, err := parseAll(fs, args[1:], 0); err != nil {
			return err
		}
		opts := demo.Options{Days: *days, PerDay: *perDay, Seed: *seed, Probes: *probes}
		if *end != "" {
			t, err := parseTime(*end)
			if err != nil {
				return fmt.Errorf("demo seed: --end: %w", err)
			}
			opts.End = t
		}
		if !*quiet {
			opts.Progress = progress
		}
		pool, err := openPool(ctx, e, "sview-demo")
		if err != nil {
			return err
		}
		defer pool.Close()
		res, err := demo.Seed(ctx, pool, opts)
		if err != nil {
			return err
		}
		if res.GeoPrefixes > 0 {
			fmt.Fprintf(e.stdout, "loaded %d demo geo prefixes (RouteViews and DB-IP data, CC BY 4.0)\n", res.GeoPrefixes)
		}
		fmt.Fprintf(e.stdout, "demo seed: %s\n", res)
		return nil
	case "live":
		rate := fs.Float64("rate", 10, "incidents per second")
		if _, err := parseAll(fs, args[1:], 0); err != nil {
			return err
		}
		opts := demo.LiveOptions{Rate: *rate, Seed: *seed, Probes: *probes}
		if !*quiet {
			opts.Progress = progress
		}
		pool, err := openPool(ctx, e, "sview-demo")
		if err != nil {
			return err
		}
		defer pool.Close()
		fmt.Fprintf(e.stderr, "demo live: inserting about %g incidents/s; Ctrl-C stops\n", *rate)
		res, err := demo.Live(ctx, pool, opts)
		fmt.Fprintf(e.stdout, "demo live: %s\n", res)
		return err
	}
	usage()
	return fmt.Errorf("demo: unknown action %q", args[0])
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not RFC 3339 or YYYY-MM-DD", strings.TrimSpace(s))
}
