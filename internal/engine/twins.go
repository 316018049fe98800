package engine

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"slices"
	"strconv"
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

// span is a half-open run [from, to) of consecutive buckets.
type span struct{ from, to time.Time }

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

// bounds is the span of buckets src reads.
func (src source) bounds() (from, until time.Time) {
	for _, spans := range [][]span{src.listed, src.unlisted} {
		if len(spans) == 0 {
			continue
		}
		if from.IsZero() || spans[0].from.Before(from) {
			from = spans[0].from
		}
		if last := spans[len(spans)-1].to; last.After(until) {
			until = last
		}
	}
	return from, until
}

// keyTypes are the SQL types of the twin key columns, to turn text arrays back into keys.
var keyTypes = map[string]string{"ip": "inet", "username": "text", "password": "text", "protocol": "protocol_t", "port": "integer"}

// from is the FROM item of src. Each arm carries its own spans and key restriction so the
// twin's indexes serve it; the query's own conditions are pushed into both arms by the planner.
func (s *statement) from(src source) string {
	if src.twin == nil {
		return src.table
	}
	cols := "time, " + strings.Join(src.twin.Keys, ", ") + ", raw_count"
	var keyIn string
	if src.keys != nil {
		keyIn = " AND " + s.keyIn(src.twin.Keys, src.keys)
	}
	var arms []string
	for _, a := range []struct {
		table string
		spans []span
	}{{src.twin.Name(src.precision), src.listed}, {src.table, src.unlisted}} {
		if len(a.spans) > 0 {
			arms = append(arms, fmt.Sprintf("SELECT %s FROM %s WHERE %s%s", cols, a.table, s.spans(a.spans), keyIn))
		}
	}
	return "(" + strings.Join(arms, " UNION ALL ") + ") AS src"
}

// spans is a condition on time matching the spans.
func (s *statement) spans(spans []span) string {
	c := make([]string, len(spans))
	for i, sp := range spans {
		c[i] = "time >= " + s.param(sp.from) + " AND time < " + s.param(sp.to)
	}
	return "(" + strings.Join(c, " OR ") + ")"
}

// keyIn is a condition matching the keys (one slice of texts per column).
func (s *statement) keyIn(cols []string, keys [][]string) string {
	arrays := make([]string, len(cols))
	for i, c := range cols {
		arrays[i] = s.param(keys[i]) + "::text[]"
		if typ := keyTypes[c]; typ != "text" {
			arrays[i] += "::" + typ + "[]"
		}
	}
	if len(cols) == 1 {
		return cols[0] + " = ANY(" + arrays[0] + ")"
	}
	return fmt.Sprintf("(%s) IN (SELECT * FROM unnest(%s))", strings.Join(cols, ", "), strings.Join(arrays, ", "))
}

// twinOf picks the twin a query can read at a precision: sums only (not attackers), and only
// when one twin's keys hold every column the query filters or groups on; the smallest such
// twin (the registry lists them smallest first). The buckets the twin does not list are read from
// sourceTable: the wide rollup, or the incidents totals.
func twinOf(q query.Query, p period.Precision) (derived.Table, bool) {
	if q.Metric == "attackers" || !twin.Has(q.Table(), p) {
		return derived.Table{}, false
	}
	cols, ok := filterColumns(q)
	if !ok {
		return derived.Table{}, false
	}
	cols = append(cols, dimensionOf(q.Table(), q.GroupBy).cols...)
	for _, t := range twin.Ranked(q.Table()) {
		if t.Covers(cols...) {
			return t, true
		}
	}
	return derived.Table{}, false
}

// prunable: an unfiltered top-N grouped by exactly the twin's keys is answered from the
// top-ranked rows of every bucket (see prune).
func prunable(q query.Query, t derived.Table) bool {
	cols, _ := filterColumns(q)
	return len(cols) == 0 && q.Limit > 0 && q.GroupBy != "" && q.Format != query.FormatMap &&
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
	step := w.Source.Step()
	for b := w.From; b.Before(w.Until); b = b.Add(step) {
		if done[b.UTC()] {
			listed = appendSpan(listed, b, b.Add(step))
		} else {
			unlisted = appendSpan(unlisted, b, b.Add(step))
		}
	}
	return listed, unlisted, nil
}

// prune finds the keys that can be in the top N of an unfiltered query read from a twin,
// without summing every key of the window:
//
//   - every listed bucket gives its rows of rank <= TopRanks as candidates and the count at
//     rank TopRanks+1 as its residual r_b, which bounds every key it did not give (0 when the
//     bucket has fewer rows); unlisted buckets give all their keys from the wide rollup;
//   - lo(k) is the sum of what was read for k, a lower bound of its total; T is the N-th
//     largest lo among keys the dimension keeps; up(k) = lo(k) + the r_b of the listed
//     buckets that did not give k is an upper bound; a key never read totals at most R = Σ r_b;
//   - when R < T, only candidates with up(k) >= T can reach the N-th total (>= T), so summing
//     those exactly and ranking them as usual gives the same answer as ranking every key.
//
// Otherwise (fewer than N candidates, or R >= T) src is returned whole.
func (e *Engine) prune(ctx context.Context, q query.Query, src source) (source, error) {
	if twin.Running.Serves(*src.twin) {
		if exact, ok, err := e.runningTop(ctx, q, src); err != nil || ok {
			return exact, err
		}
	}
	d := dimensionOf(q.Table(), q.GroupBy)
	kept := "true"
	if len(d.where) > 0 {
		kept = strings.Join(d.where, " AND ")
	}
	keys := strings.Join(src.twin.Keys, ", ")
	texts := keyTexts(*src.twin)
	// The bounds may read coarser rows than the answer: whole days of an hourly window whose
	// daily twin agrees with the hours give one row per key instead of 24, and a far smaller
	// sum of residuals.
	arms, err := e.pruneArms(ctx, q.Table(), src)
	if err != nil {
		return src, err
	}
	var r int64
	var statements []statement
	for _, a := range arms {
		var res statement
		res.sql = fmt.Sprintf("SELECT coalesce(sum(raw_count), 0)::bigint FROM %s WHERE %s AND rank = %d", a.table, res.spans(a.spans), derived.TopRanks+1)
		var ar int64
		if err := e.db.QueryRow(ctx, res.sql, res.args...).Scan(&ar); err != nil {
			return src, fmt.Errorf("read the residuals of %s: %w", a.table, err)
		}
		r += ar
		// Per candidate: lo, and the residuals of the listed buckets that gave it, summed by
		// PostgreSQL so only one row per key travels.
		var top statement
		top.sql = fmt.Sprintf(`WITH ranked AS (
	SELECT time, rank, %[1]s, raw_count FROM %[2]s WHERE %[3]s AND rank <= %[4]d
), residual AS (
	SELECT time, raw_count AS residual FROM ranked WHERE rank = %[4]d
)
SELECT %[5]s, sum(raw_count)::bigint, coalesce(sum(residual), 0)::bigint
FROM ranked LEFT JOIN residual USING (time)
WHERE rank <= %[6]d AND %[7]s
GROUP BY %[1]s`, keys, a.table, top.spans(a.spans), derived.TopRanks+1, strings.Join(texts, ", "), derived.TopRanks, kept)
		statements = append(statements, top)
	}
	if len(src.unlisted) > 0 {
		statements = append(statements, sumsByKey(*src.twin, src.table, src.unlisted, kept))
	}
	cands := map[string]*candidate{}
	for _, st := range statements {
		err := e.scanKeys(ctx, st, len(texts), func(key []string, lo, residuals int64) {
			id := strings.Join(key, "\x00")
			c := cands[id]
			if c == nil {
				c = &candidate{key: key}
				cands[id] = c
			}
			c.lo += lo
			c.residuals += residuals
		})
		if err != nil {
			return src, err
		}
	}

	if len(cands) < q.Limit {
		return src, nil
	}
	los := make([]int64, 0, len(cands))
	for _, c := range cands {
		los = append(los, c.lo)
	}
	threshold := nthLargest(los, q.Limit)
	passing := func() int {
		n := 0
		for _, c := range cands {
			if c.lo+r-c.residuals >= threshold {
				n++
			}
		}
		return n
	}
	// lo misses what a key counted below the top ranks, so on flat keys (attacking addresses
	// over months) T can sit under R, or let most candidates through. The exact sums of the
	// candidates with the largest lo are N totals of real keys, so their N-th is a larger
	// lower bound of the N-th total.
	if r >= threshold || passing() > refineAbove*q.Limit {
		exact, err := e.exactSums(ctx, src, cands, refineWith*q.Limit, kept)
		if err != nil {
			return src, err
		}
		if len(exact) >= q.Limit {
			threshold = max(threshold, nthLargest(exact, q.Limit))
		}
	}
	if r >= threshold {
		return src, nil
	}
	src.keys = make([][]string, len(texts))
	for _, c := range cands {
		if c.lo+r-c.residuals >= threshold {
			src.keys = appendKey(src.keys, c.key)
		}
	}
	return src, nil
}

// The pruning refines its threshold with exact sums (see prune) when more than refineAbove × N
// candidates would pass, summing the refineWith × N candidates with the largest lo.
const refineAbove, refineWith = 4, 2

// exactSums sums over src the n candidates with the largest lo, as rows where kept holds, and
// returns their totals.
func (e *Engine) exactSums(ctx context.Context, src source, cands map[string]*candidate, n int, kept string) ([]int64, error) {
	top := make([]*candidate, 0, len(cands))
	for _, c := range cands {
		top = append(top, c)
	}
	slices.SortFunc(top, func(a, b *candidate) int { return cmp.Compare(b.lo, a.lo) })
	src.keys = make([][]string, len(src.twin.Keys))
	for _, c := range top[:min(n, len(top))] {
		src.keys = appendKey(src.keys, c.key)
	}
	var st statement
	st.sql = fmt.Sprintf("SELECT %s, sum(raw_count)::bigint, 0::bigint FROM %s WHERE %s GROUP BY %s",
		strings.Join(keyTexts(*src.twin), ", "), st.from(src), kept, strings.Join(src.twin.Keys, ", "))
	var sums []int64
	err := e.scanKeys(ctx, st, len(src.twin.Keys), func(_ []string, n, _ int64) { sums = append(sums, n) })
	return sums, err
}

// runningTop narrows src to the keys of its top N when the running totals (twin.Running) reach
// back to the start of the window: the difference of two of their rows is every key's exact
// sum over the buckets they cover, and the newest buckets after those are summed from src.
// Every key tied with the N-th sum is kept, as prune keeps them. ok is false when the running
// totals do not cover the window's start (a chain started later, or not built yet).
func (e *Engine) runningTop(ctx context.Context, q query.Query, src source) (_ source, ok bool, err error) {
	p, step := src.precision, src.precision.Step()
	from, until := src.bounds()
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
	threshold := int64(1)
	if sums.Len() > q.Limit {
		threshold = nthLargest(sums.Counts, q.Limit)
	}
	src.keys = make([][]string, len(src.twin.Keys))
	for i, k := range sums.Keys {
		if sums.Counts[i] >= threshold {
			src.keys = appendKey(src.keys, k.Texts())
		}
	}
	src.running = twin.Running.Table(p)
	return src, true, nil
}

// keyTexts are the twin's key columns as text, the form keys travel in.
func keyTexts(t derived.Table) []string {
	texts := make([]string, len(t.Keys))
	for i, k := range t.Keys {
		texts[i] = k + "::text"
	}
	return texts
}

// sumsByKey sums a table over spans per key of the twin, as rows (key texts…, sum, 0) for
// scanKeys, keeping the rows where kept holds.
func sumsByKey(t derived.Table, table string, spans []span, kept string) statement {
	var st statement
	st.sql = fmt.Sprintf("SELECT %s, sum(raw_count)::bigint, 0::bigint FROM %s WHERE %s AND %s GROUP BY %s",
		strings.Join(keyTexts(t), ", "), table, st.spans(spans), kept, strings.Join(t.Keys, ", "))
	return st
}

// nthLargest is the n-th largest of vals (1-based; n <= len(vals)): the smallest of the n
// largest, kept in a min-heap, so a hundred thousand ports cost no sort.
func nthLargest(vals []int64, n int) int64 {
	top := make(minHeap, 0, n)
	for _, v := range vals {
		switch {
		case len(top) < n:
			heap.Push(&top, v)
		case v > top[0]:
			top[0] = v
			heap.Fix(&top, 0)
		}
	}
	return top[0]
}

type minHeap []int64

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *minHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}

// appendKey adds one key (a text per column) to keys (a slice per column).
func appendKey(keys [][]string, key []string) [][]string {
	for i, k := range key {
		keys[i] = append(keys[i], k)
	}
	return keys
}

// clip is the part of spans from t on.
func clip(spans []span, t time.Time) []span {
	var out []span
	for _, sp := range spans {
		if sp.to.After(t) {
			if sp.from.Before(t) {
				sp.from = t
			}
			out = append(out, sp)
		}
	}
	return out
}

// candidate is a key the pruning read from the top ranks: lo is what was read for it, residuals
// the rank-(TopRanks+1) counts of the buckets that gave it.
type candidate struct {
	key           []string
	lo, residuals int64
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
	if src.precision != period.Hourly || !twin.Has(table, period.Daily) {
		fine.spans = src.listed
		return []pruneArm{fine}, nil
	}
	day := period.Daily.Step()
	w := period.Window{Source: period.Daily, From: src.listed[0].from.Truncate(day), Until: src.listed[len(src.listed)-1].to}
	daily, _, err := e.twinSpans(ctx, table, w)
	if err != nil {
		return nil, err
	}
	pending, err := rollupstate.PendingInvalidations(ctx, e.db, rollupstate.Key{Table: table, Precision: period.Daily}, w.From, w.Until)
	if err != nil {
		return nil, err
	}
	coarse := pruneArm{table: src.twin.Name(period.Daily)}
	for _, sp := range src.listed {
		at := sp.from
		for d := period.Ceil(sp.from, day); !d.Add(day).After(sp.to); d = d.Add(day) {
			if !covers(daily, d, d.Add(day)) || pendingOver(pending, d, d.Add(day)) {
				continue
			}
			fine.spans = appendSpan(fine.spans, at, d)
			coarse.spans = appendSpan(coarse.spans, d, d.Add(day))
			at = d.Add(day)
		}
		fine.spans = appendSpan(fine.spans, at, sp.to)
	}
	var arms []pruneArm
	for _, a := range []pruneArm{coarse, fine} {
		if len(a.spans) > 0 {
			arms = append(arms, a)
		}
	}
	return arms, nil
}

// covers reports whether [from, to) lies inside one of spans.
func covers(spans []span, from, to time.Time) bool {
	for _, sp := range spans {
		if !from.Before(sp.from) && !to.After(sp.to) {
			return true
		}
	}
	return false
}

// pendingOver reports whether one of the invalidations, closed at both ends as they are
// recorded, touches [from, to).
func pendingOver(pending []rollupstate.Span, from, to time.Time) bool {
	for _, r := range pending {
		if r.From.Before(to) && !r.To.Before(from) {
			return true
		}
	}
	return false
}

// appendSpan adds [from, to) to spans, merged with the last one when they touch; an empty
// span adds nothing.
func appendSpan(spans []span, from, to time.Time) []span {
	if !from.Before(to) {
		return spans
	}
	if n := len(spans); n > 0 && spans[n-1].to.Equal(from) {
		spans[n-1].to = to
		return spans
	}
	return append(spans, span{from, to})
}

// scanKeys runs a statement returning (key texts…, lo, residuals) and hands every row to f.
func (e *Engine) scanKeys(ctx context.Context, st statement, keys int, f func(key []string, lo, residuals int64)) error {
	rows, err := e.db.Query(ctx, st.sql, st.args...)
	if err != nil {
		return fmt.Errorf("read top-ranked keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var lo, residuals int64
		key := make([]string, keys)
		dest := make([]any, 0, keys+2)
		for i := range key {
			dest = append(dest, &key[i])
		}
		if err := rows.Scan(append(dest, &lo, &residuals)...); err != nil {
			return fmt.Errorf("read top-ranked keys: %w", err)
		}
		f(key, lo, residuals)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read top-ranked keys: %w", err)
	}
	return nil
}
