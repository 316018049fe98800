package stats

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/trend"
)

// Trend answers a validated trend query (docs/trends.md): the ranked keys as one frame. The
// cache keeps every key's row, computed once per metric, grouping, filters and windows, so
// both directions, any limit and the table and numeric formats share one computation.
func (s *Service) Trend(ctx context.Context, q query.Query, r period.Range, skipRead bool) (Result, error) {
	w, err := s.trendWindows(ctx, q, r)
	if err != nil {
		return Result{}, err
	}
	// The freshness of the period or range, as for a stats answer; the key, the computation and
	// the watermark that makes an answer stale (that of the precision of the buckets) are the
	// trend's.
	req := s.request(q, r)
	var mark func(ctx context.Context) (time.Time, error)
	if p := precisionOf(w.Current.Interval); p != period.Raw {
		key := rollupstate.Key{Table: q.Table(), Precision: p}
		mark = func(ctx context.Context) (time.Time, error) { return s.watermark(ctx, key) }
	}
	req.Watermark = mark
	shared := q
	shared.Direction, shared.Limit, shared.Format, shared.Measure = "", 0, "", ""
	req.Key = fmt.Sprintf("%s %s..%s/%s", shared.CacheKey(period.Range{}), w.Current.From.Format(time.RFC3339),
		w.Current.To.Format(time.RFC3339), w.Current.Interval)
	req.Label = fmt.Sprintf("trend %s/%s %s..%s/%s", q.Metric, q.GroupBy, w.Current.From.Format(time.RFC3339),
		w.Current.To.Format(time.RFC3339), w.Current.Interval)
	req.SkipRead = skipRead
	req.Compute = func(ctx context.Context) ([]byte, time.Time, error) {
		var wm time.Time
		if mark != nil {
			var err error
			if wm, err = mark(ctx); err != nil {
				return nil, wm, err
			}
		}
		t, err := s.computeTrend(ctx, q, w)
		if err != nil {
			return nil, wm, err
		}
		b, err := json.Marshal(t)
		return b, wm, err
	}
	res, err := s.cache.Get(ctx, req)
	if err != nil {
		return Result{}, err
	}
	var t trend.Table
	if err := json.Unmarshal(res.Value, &t); err != nil {
		return Result{}, fmt.Errorf("cached answer of %s: %w", res.Label, err)
	}
	measure := ""
	if q.Format == query.FormatNumeric {
		measure = q.Measure
	}
	f, err := t.Frame(trendTitle(q), trend.Rank(t.Rows, q.Direction, q.Limit), measure)
	if err != nil {
		return Result{}, err
	}
	if m, ok := f.Meta.Custom.(map[string]any); ok {
		m["cache"] = string(res.State)
	}
	return Result{Frames: data.Frames{f}, State: res.State, Label: res.Label, Watermark: res.Watermark, ComputedAt: res.ComputedAt}, nil
}

// trendTitle names the frame: "Rising incidents by asn".
func trendTitle(q query.Query) string {
	dir := "Rising"
	if q.Direction == trend.Falling {
		dir = "Falling"
	}
	return dir + " " + q.Metric + " by " + q.GroupBy.String()
}

// trendWindows are the windows of q: the period's ending now, or the dashboard range's. The
// end is pulled back to the last final bucket: the rollup's watermark at the precision of the
// bucket, or the raw tail for minute buckets, so an unfinished bucket never reads as a fall.
func (s *Service) trendWindows(ctx context.Context, q query.Query, r period.Range) (trend.Windows, error) {
	now := s.now()
	end, length := r.To, r.To.Sub(r.From)
	if p, ok := period.Lookup(q.Period); ok {
		end, length = now, p.Range
	}
	if length <= 0 {
		return trend.Windows{}, fmt.Errorf("%w: %w: from %s, to %s", query.ErrInvalidField, period.ErrEmptyRange,
			r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339))
	}
	bucket := trend.Bucket(length)
	final := now.Add(-period.RawTail)
	if p := precisionOf(bucket); p != period.Raw {
		wm, err := s.watermark(ctx, rollupstate.Key{Table: q.Table(), Precision: p})
		if err != nil {
			return trend.Windows{}, err
		}
		if !wm.IsZero() {
			final = wm // zero: the aggregator has not started, the rollup is read as it is
		}
	}
	if end.After(final) {
		end = final
	}
	return trend.WindowsAt(end, length, bucket), nil
}

// precisionOf is the coarsest precision whose rows make whole buckets of width bucket.
func precisionOf(bucket time.Duration) period.Precision {
	for i := len(period.Precisions) - 1; i > 0; i-- {
		if p := period.Precisions[i]; bucket%p.Step() == 0 {
			return p
		}
	}
	return period.Raw
}

// computeTrend reads every key's totals over both windows and over each bucket of the current
// one, and computes their rows. Every read is a table of the keys with rows in its span, so a
// key costs a row only where it occurs (a dense series of every key would hold keys × buckets
// rows: a month of the thousands of ports scanned already exceeds the engine's row guard), and
// a distinct count (attackers) is distinct over each window and each bucket, as a stats query
// counts it.
func (s *Service) computeTrend(ctx context.Context, q query.Query, w trend.Windows) (trend.Table, error) {
	all := q.Grouped(query.FormatTable, 0)
	read := func(r period.Range) ([]string, []trend.Count, error) {
		frames, _, err := s.engine.Run(ctx, all, r)
		if err != nil {
			return nil, nil, fmt.Errorf("trend of every %s: %w (a trend ranks every key: narrow it with filters or exclusions)", q.GroupBy, err)
		}
		return counts(frames)
	}
	columns, current, err := read(w.Current)
	if err != nil {
		return trend.Table{}, err
	}
	prevColumns, previous, err := read(w.Previous)
	if err != nil {
		return trend.Table{}, err
	}
	if len(columns) == 0 {
		columns = prevColumns
	}
	var buckets [][]trend.Count
	if len(current) > 0 { // else every bucket is empty
		for _, b := range w.BucketRanges() {
			_, c, err := read(b)
			if err != nil {
				return trend.Table{}, err
			}
			buckets = append(buckets, c)
		}
	}
	keys, err := trend.Join(current, previous, buckets, w.Buckets())
	if err != nil {
		return trend.Table{}, err
	}
	return trend.Table{Columns: columns, Windows: w, Rows: trend.Compute(keys, w.Current.Interval)}, nil
}

// counts reads a grouped table answer of the engine: the key's columns (its string fields; a
// null is "") and each row's labels and value (the numeric field).
func counts(frames data.Frames) ([]string, []trend.Count, error) {
	if len(frames) != 1 {
		return nil, nil, fmt.Errorf("trend: a grouped table answer has %d frames, want 1", len(frames))
	}
	// The engine's table is the key columns (text, or numbers such as asn) and the count last.
	f := frames[0]
	n := len(f.Fields)
	if n == 0 || f.Fields[n-1].Type() != data.FieldTypeInt64 {
		return nil, nil, fmt.Errorf("trend: the grouped table answer %q has no count", f.Name)
	}
	value, keyFields := f.Fields[n-1], f.Fields[:n-1]
	columns := make([]string, len(keyFields))
	for i, fd := range keyFields {
		columns[i] = fd.Name
	}
	out := make([]trend.Count, value.Len())
	for i := range out {
		labels := make(map[string]string, len(keyFields))
		for _, fd := range keyFields {
			if v, ok := fd.ConcreteAt(i); ok {
				labels[fd.Name] = fmt.Sprint(v)
			}
		}
		out[i] = trend.Count{Labels: labels, Value: value.At(i).(int64)}
	}
	return columns, out, nil
}
