package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/twin"
)

// source is what a query's statement reads: one table, or a ranked twin (internal/twin) for
// the buckets twin_buckets lists and the wide rollup for the others, as one UNION ALL of
// time, the twin's key columns and raw_count.
type source struct {
	table     string // read alone when twin is nil; the wide rollup otherwise
	twin      *derived.Table
	precision period.Precision
	listed    []span // buckets read from the twin
	unlisted  []span // buckets read from the wide rollup
	// keys, when not nil, restricts the read to these keys of a pruned top-N: one slice per
	// twin key column, each value as the column's text.
	keys [][]string
	// running names the running totals the keys were chosen from, when they were.
	running string
}

// name says what the source reads, for Info.Source.
func (src source) name() string {
	if src.twin == nil {
		return src.table
	}
	var parts []string
	if len(src.listed) > 0 {
		parts = append(parts, src.twin.Name(src.precision))
	}
	if len(src.unlisted) > 0 {
		parts = append(parts, src.table)
	}
	n := strings.Join(parts, " + ")
	switch {
	case src.running != "":
		n += fmt.Sprintf(" (top-N from %s: %d keys)", src.running, len(src.keys[0]))
	case src.keys != nil:
		n += fmt.Sprintf(" (top-N pruned to %d keys)", len(src.keys[0]))
	}
	return n
}

// covering lists the registry's tables of q's family at precision p that can answer q, in
// registry order (smallest first within a kind): the rollup always; a totals table or a ranked
// twin for a sum (every metric but attackers, which counts distinct addresses) when its keys
// hold every column q filters or groups on. A scope restriction needs probe, asn and address
// together, so it reads the rollup only.
func covering(q query.Query, p period.Precision) []derived.Table {
	cols, narrow := filterColumns(q)
	cols = append(cols, dimensionOf(q.Table(), q.GroupBy).cols...)
	narrow = narrow && q.Metric != "attackers"
	var out []derived.Table
	for _, t := range derived.All {
		if t.Family != q.Table() || !t.At(p) {
			continue
		}
		switch t.Kind {
		case derived.Rollup:
			out = append(out, t)
		case derived.Totals, derived.Ranked:
			if narrow && t.Covers(cols...) {
				out = append(out, t)
			}
		}
	}
	return out
}

// sourceTable is the complete table q reads at a precision, complete meaning written with the
// rollup's buckets under its watermark: the totals when they cover q, else the rollup (the
// raw table at raw). Ranked twins are read beside it for the buckets they list (twinOf).
func sourceTable(q query.Query, p period.Precision) string {
	src := derived.RollupOf(q.Table())
	for _, t := range covering(q, p) {
		if t.Kind == derived.Totals {
			src = t
			break
		}
	}
	return src.Name(p)
}

// twinOf picks the ranked twin q reads at a precision for the buckets twin_buckets lists: the
// smallest that covers it. The buckets it does not list are read from sourceTable.
func twinOf(q query.Query, p period.Precision) (derived.Table, bool) {
	for _, t := range covering(q, p) {
		if t.Kind == derived.Ranked {
			return t, true
		}
	}
	return derived.Table{}, false
}

// prunable: a top-N without filters or exclusions grouped by exactly the twin's keys (by one
// key or several, in any order: covering has put every grouped column among them) is answered
// from the top-ranked rows of every bucket (see prune), which rank every row.
func prunable(q query.Query, t derived.Table) bool {
	cols, _ := filterColumns(q)
	return len(cols) == 0 && q.Limit > 0 && len(q.GroupBy) > 0 && q.Format != query.FormatMap &&
		len(dimensionOf(q.Table(), q.GroupBy).cols) == len(t.Keys)
}

// source plans what q reads over w: the table sourceTable names, or its twin for the buckets
// twin_buckets lists, narrowed to the keys of the answer for an unfiltered top-N.
func (e *Engine) source(ctx context.Context, q query.Query, w period.Window) (source, error) {
	src := source{table: sourceTable(q, w.Source)}
	t, ok := twinOf(q, w.Source)
	if !ok {
		return src, nil
	}
	listed, unlisted, err := e.twinSpans(ctx, q.Table(), w)
	if err != nil || len(listed) == 0 {
		return src, err
	}
	src.twin, src.precision, src.listed, src.unlisted = &t, w.Source, listed, unlisted
	if prunable(q, t) {
		return e.prune(ctx, q, src)
	}
	return src, nil
}

// twinSpans cuts w's source buckets into runs listed in twin_buckets (their twins are
// complete) and runs that are not (too new for the ranking job, or re-rolled since).
func (e *Engine) twinSpans(ctx context.Context, table derived.Family, w period.Window) (listed, unlisted []span, err error) {
	done, err := rollupstate.ListedTwins(ctx, e.db, rollupstate.Key{Table: table, Precision: w.Source}, w.From, w.Until)
	if err != nil {
		return nil, nil, err
	}
	listed, unlisted = cut(w.From, w.Until, w.Source.Step(), done)
	return listed, unlisted, nil
}

// pruneArm is a twin table and the spans of it the pruning bounds read.
type pruneArm struct {
	table string
	spans []span
}

// pruneArms splits the listed spans of src for the pruning bounds. For an hourly twin, a whole
// day inside them is read from the daily twin when that is listed and no daily recomputation
// is pending over the day: then the daily rollup holds the sums of the hours the answer reads
// (an hourly recomputation records the daily one in its own transaction, and both are seen in
// this read's snapshot), so the bounds hold for them. The rest is read from the hourly twin.
func (e *Engine) pruneArms(ctx context.Context, table derived.Family, src source) ([]pruneArm, error) {
	fine := pruneArm{table: src.twin.Name(src.precision)}
	if src.precision != period.Hourly || !src.twin.At(period.Daily) {
		fine.spans = src.listed
		return []pruneArm{fine}, nil
	}
	day := period.Daily.Step()
	w := period.Window{Source: period.Daily, From: src.listed[0].from.Truncate(day), Until: src.listed[len(src.listed)-1].to}
	daily, _, err := e.twinSpans(ctx, table, w)
	if err != nil {
		return nil, err
	}
	invalidated, err := rollupstate.PendingInvalidations(ctx, e.db, rollupstate.Key{Table: table, Precision: period.Daily}, w.From, w.Until)
	if err != nil {
		return nil, err
	}
	pending := make([]span, len(invalidated))
	for i, r := range invalidated {
		pending[i] = span{r.From, r.To}
	}
	coarse := pruneArm{table: src.twin.Name(period.Daily)}
	fine.spans, coarse.spans = wholeDays(src.listed, daily, pending)
	var arms []pruneArm
	for _, a := range []pruneArm{coarse, fine} {
		if len(a.spans) > 0 {
			arms = append(arms, a)
		}
	}
	return arms, nil
}

// Distinct attackers over long windows are read from the sightings twin (see twin.Sightings):
// a sum over a few hundred rows per bucket instead of a count(DISTINCT ip) over every row of
// the wide rollup. That holds for attackers in all or grouped by country, filtered by nothing
// but country, over a window within the lookback whose every bucket the twin job has built.

// sightingsApply reports whether q over w can be answered from the sightings. A country
// filter or exclusion without grouping needs addresses deduplicated across the chosen
// countries, which the per-country rows cannot give; grouped by country, one of them (not
// both) narrows the countries.
func sightingsApply(q query.Query, w period.Window) bool {
	p := w.Source
	if q.Metric != "attackers" || !twin.Sightings.At(p) {
		return false
	}
	cols, ok := filterColumns(q)
	if !ok || len(cols) > 1 || len(cols) == 1 && cols[0] != "country" {
		return false
	}
	switch {
	case len(q.GroupBy) == 0:
		if len(cols) > 0 {
			return false
		}
	case !q.GroupBy.Is("country"):
		return false
	}
	return w.Until.Sub(w.From) <= twin.Sightings.Span(p)
}

// maxLiveSightings is how many buckets of a window the engine computes itself when the twin
// job has not built them yet (the newest hour or day, between its rollup step and the twin
// job): each costs a lookup per address, about 0.6 s for a day at a million incidents.
const maxLiveSightings = 2

// sightingsSource is what a sightings read reads: the table for the built buckets, the rest
// computed from the wide rollup.
type sightingsSource struct {
	precision      period.Precision
	built, unbuilt []span
}

func (src sightingsSource) name() string {
	n := twin.Sightings.Table(src.precision)
	if len(src.unbuilt) > 0 {
		n += " + " + derived.RollupOf(twin.Sightings.Family()).Name(src.precision)
	}
	return n
}

// readsSightings plans a sightings read of q over w; false when the sightings cannot answer
// or too many of the window's buckets are not built.
func (e *Engine) readsSightings(ctx context.Context, q query.Query, w period.Window) (sightingsSource, bool, error) {
	if !sightingsApply(q, w) {
		return sightingsSource{}, false, nil
	}
	built, unbuilt, err := e.twinSpans(ctx, twin.Sightings.Family(), w)
	if err != nil {
		return sightingsSource{}, false, err
	}
	step, missing := w.Source.Step(), time.Duration(0)
	for _, sp := range unbuilt {
		missing += sp.to.Sub(sp.from)
	}
	return sightingsSource{w.Source, built, unbuilt}, missing <= maxLiveSightings*step, nil
}
