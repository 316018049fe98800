package engine

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/topn"
	"github.com/sview-project/sview/internal/twin"
)

// prune narrows src to the keys that can be in the top N of an unfiltered query read from a
// twin, without summing every key of the window (see topn for the bounds): every listed bucket
// gives its rows of rank <= TopRanks, among the keys the dimension keeps, as candidates and the
// count at rank TopRanks+1 as its residual; unlisted buckets give every key from the wide
// rollup. When nothing can be pruned src is returned whole.
func (e *Engine) prune(ctx context.Context, q query.Query, src source) (source, error) {
	if twin.Running.Serves(*src.twin) {
		if exact, ok, err := e.runningTop(ctx, q, src); err != nil || ok {
			return exact, err
		}
	}
	kept := dimensionOf(q.Table(), q.GroupBy).kept()
	// The bounds may read coarser rows than the answer: whole days of an hourly window whose
	// daily twin agrees with the hours give one row per key instead of 24, and a far smaller
	// sum of residuals.
	arms, err := e.pruneArms(ctx, q.Table(), src)
	if err != nil {
		return src, err
	}
	cands := topn.New(q.Limit)
	var statements []statement
	for _, a := range arms {
		res := residualsSQL(a.table, a.spans)
		var r int64
		if err := e.db.QueryRow(ctx, res.sql, res.args...).Scan(&r); err != nil {
			return src, fmt.Errorf("read the residuals of %s: %w", a.table, err)
		}
		cands.AddResidual(r)
		statements = append(statements, candidatesSQL(*src.twin, a.table, a.spans, kept))
	}
	if len(src.unlisted) > 0 {
		statements = append(statements, sumsByKey(*src.twin, src.table, src.unlisted, kept))
	}
	for _, st := range statements {
		if err := e.scanKeys(ctx, st, len(src.twin.Keys), cands.Add); err != nil {
			return src, err
		}
	}
	pruned, ok, err := cands.Prune(func(keys [][]string) ([]int64, error) { return e.exactSums(ctx, src, keys, kept) })
	if err != nil || !ok {
		return src, err
	}
	src.keys = columns(pruned, len(src.twin.Keys))
	return src, nil
}

// exactSums sums keys over src, as rows where kept holds, and returns their totals.
func (e *Engine) exactSums(ctx context.Context, src source, keys [][]string, kept string) ([]int64, error) {
	src.keys = columns(keys, len(src.twin.Keys))
	var sums []int64
	err := e.scanKeys(ctx, exactSumsSQL(src, kept), len(src.twin.Keys), func(_ []string, n, _ int64) { sums = append(sums, n) })
	return sums, err
}

// runningTop narrows src to the keys of its top N when the running totals (twin.Running) reach
// back to the start of the window: the difference of two of their rows is every key's exact
// sum over the buckets they cover, and the newest buckets after those are summed from src.
// Every key tied with the N-th sum is kept, as prune keeps them. ok is false when the running
// totals do not cover the window's start (a chain started later, or not built yet).
func (e *Engine) runningTop(ctx context.Context, q query.Query, src source) (_ source, ok bool, err error) {
	p, step := src.precision, src.precision.Step()
	from, until := bounds(src.listed, src.unlisted)
	end, found, err := twin.Running.ReadRow(ctx, e.db, p, until)
	if err != nil || !found || end.Time.Before(from) || from.Before(end.Origin) {
		return src, false, err
	}
	sums := end.Totals
	if !from.Equal(end.Origin) {
		start, found, err := twin.Running.ReadRow(ctx, e.db, p, from)
		if err != nil || !found || !start.Time.Equal(from.Add(-step)) || !start.Origin.Equal(end.Origin) {
			return src, false, err
		}
		if sums, err = sums.Sub(start.Totals); err != nil {
			return src, false, fmt.Errorf("%s over %s..%s: %w", twin.Running.Table(p), from.Format(time.RFC3339), end.Time.Format(time.RFC3339), err)
		}
	}
	// The buckets after the newest row: from the twin where listed, else the wide rollup.
	after := end.Time.Add(step)
	var keys []twin.PortKey
	var counts []int64
	for _, arm := range []struct {
		table string
		spans []span
	}{{src.twin.Name(p), clip(src.listed, after)}, {src.table, clip(src.unlisted, after)}} {
		if len(arm.spans) == 0 {
			continue
		}
		var bad error
		err := e.scanKeys(ctx, sumsByKey(*src.twin, arm.table, arm.spans, "true"), len(src.twin.Keys), func(key []string, n, _ int64) {
			port, err := strconv.ParseInt(key[1], 10, 32)
			k, kerr := twin.NewPortKey(key[0], int32(port))
			if err = cmp.Or(err, kerr); err != nil {
				bad = err
			}
			keys, counts = append(keys, k), append(counts, n)
		})
		if err = cmp.Or(err, bad); err != nil {
			return src, false, err
		}
	}
	if len(keys) > 0 {
		sums = sums.Add(twin.NewTotals(keys, counts))
	}
	top := make([][]string, 0, q.Limit)
	for _, i := range topn.Top(sums.Counts, q.Limit) {
		top = append(top, sums.Keys[i].Texts())
	}
	src.keys = columns(top, len(src.twin.Keys))
	src.running = twin.Running.Table(p)
	return src, true, nil
}

// columns turns keys (a text per column each) into a slice per column, as source.keys holds
// them.
func columns(keys [][]string, n int) [][]string {
	cols := make([][]string, n)
	for _, key := range keys {
		for i, k := range key {
			cols[i] = append(cols[i], k)
		}
	}
	return cols
}
