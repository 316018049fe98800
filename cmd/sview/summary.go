package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sview-project/sview/internal/summary"
)

// cmdSummary writes the files of one month's summary under a directory, laid out as the API
// serves them (summary.md links its charts relatively).
func cmdSummary(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("summary")
	month := fs.String("month", "", "the month, YYYY-MM (default: the newest month that has a summary)")
	out := fs.String("out", "", "directory to write summary.md, summary.csv and charts/*.png into (created if missing)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("summary: unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return errors.New("summary: --out DIR is required")
	}
	var m summary.Month
	if *month != "" {
		var err error
		if m, err = summary.ParseMonth(*month); err != nil {
			return fmt.Errorf("summary: --month: %w", err)
		}
	}
	qs, err := openQueryStack(ctx, e, "sview-summary", nil)
	if err != nil {
		return err
	}
	defer qs.close()
	p := summary.NewPublisher(qs.reads, qs.stats)
	if *month == "" {
		a, err := p.Availability(ctx)
		if err != nil {
			return err
		}
		months := a.Months()
		if len(months) == 0 {
			return fmt.Errorf("summary: no month has a summary yet: %w", a.Check(summary.MonthOf(a.From)))
		}
		m = months[0]
	}
	rep, err := p.Report(ctx, m)
	if err != nil {
		return fmt.Errorf("summary of %s: %w", m, err)
	}
	for _, f := range rep.Files {
		path := filepath.Join(*out, filepath.FromSlash(f.Name))
		// #nosec G301 -- the summary is public data, written to be published by a web server
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("summary: %w", err)
		}
		// #nosec G306 -- public data, as /api/reports/monthly/ serves it: readable by the web server
		if err := os.WriteFile(path, f.Body, 0o644); err != nil {
			return fmt.Errorf("summary: %w", err)
		}
		fmt.Fprintf(e.stdout, "wrote %s (%d bytes)\n", path, len(f.Body))
	}
	return nil
}
