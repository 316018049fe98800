package stats

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sview-project/sview/internal/catalog"
	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
)

// ErrUnknownTarget marks a preset or period name that `cache warm` does not know.
var ErrUnknownTarget = errors.New("unknown warm target")

// Target is one preset at one period.
type Target struct {
	Preset string
	Period string
	query  query.Query
}

// Outcome of warming one target.
type Outcome string

// Outcomes reported to WarmOptions.Progress.
const (
	Computed Outcome = "computed"
	Fresh    Outcome = "fresh"   // entry present and not due (onlyDue)
	Planned  Outcome = "planned" // dry run
	Failed   Outcome = "failed"
)

// WarmOptions steer Warm.
type WarmOptions struct {
	OnlyDue  bool // skip entries that are present and not due (`sview refresh`)
	DryRun   bool // report what would be computed, compute nothing
	Progress func(t Target, o Outcome, took time.Duration, err error)
}

// WarmReport counts outcomes.
type WarmReport map[Outcome]int

// Targets expands preset and period names into targets; empty lists mean every precached
// preset and every period.
func Targets(presets, periods []string) ([]Target, error) {
	if len(periods) == 0 {
		periods = period.Names()
	}
	var ps []catalog.Preset
	if len(presets) == 0 {
		for _, p := range catalog.All {
			if p.Precached {
				ps = append(ps, p)
			}
		}
	}
	for _, name := range presets {
		p, ok := catalog.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("%w: preset %q (see `GET variables/presets`)", ErrUnknownTarget, name)
		}
		if p.Requires != "" {
			return nil, fmt.Errorf("%w: preset %q needs a %s and cannot be warmed", ErrUnknownTarget, name, p.Requires)
		}
		ps = append(ps, p)
	}
	var out []Target
	for _, per := range periods {
		if _, ok := period.Lookup(per); !ok {
			return nil, fmt.Errorf("%w: period %q, want one of %s", ErrUnknownTarget, per, strings.Join(period.Names(), ", "))
		}
		for _, p := range ps {
			q := query.FromPreset(p)
			q.Period = per
			q = q.Normalize()
			if err := q.Validate(); err != nil {
				return nil, fmt.Errorf("preset %s at %s: %w", p.Name, per, err)
			}
			out = append(out, Target{Preset: p.Name, Period: per, query: q})
		}
	}
	return out, nil
}

// Warm fills the cache for targets, one after another (the database, not the cache, is the
// bottleneck). A failing target is reported and the rest still run; the error joins all
// failures.
func (s *Service) Warm(ctx context.Context, targets []Target, opts WarmOptions) (WarmReport, error) {
	report := WarmReport{}
	var errs []error
	for _, t := range targets {
		if ctx.Err() != nil {
			return report, ctx.Err()
		}
		start := time.Now()
		o, err := s.warmOne(ctx, t, opts)
		report[o]++
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", t.Preset, t.Period, err))
		}
		if opts.Progress != nil {
			opts.Progress(t, o, time.Since(start), err)
		}
	}
	return report, errors.Join(errs...)
}

func (s *Service) warmOne(ctx context.Context, t Target, opts WarmOptions) (Outcome, error) {
	req := s.request(t.query, period.Range{})
	if opts.DryRun {
		if !opts.OnlyDue {
			return Planned, nil
		}
		due, err := s.cache.IsDue(ctx, req)
		if err != nil {
			return Failed, err
		}
		if due {
			return Planned, nil
		}
		return Fresh, nil
	}
	computed, err := s.cache.Refresh(ctx, req, opts.OnlyDue)
	switch {
	case err != nil:
		return Failed, err
	case computed:
		return Computed, nil
	}
	return Fresh, nil
}

// WarmSource recomputes every precached preset × period that reads table at precision; the
// aggregator calls it after a rollup step moved that watermark. It returns how many entries
// were computed.
func (s *Service) WarmSource(ctx context.Context, table derived.Family, precision period.Precision) (int, error) {
	all, err := Targets(nil, nil)
	if err != nil {
		return 0, err
	}
	var mine []Target
	for _, t := range all {
		p, _ := period.Lookup(t.Period)
		if t.query.Table() == table && p.Source == precision {
			mine = append(mine, t)
		}
	}
	report, err := s.Warm(ctx, mine, WarmOptions{})
	return report[Computed], err
}
