package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sview-project/sview/internal/catalog"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
)

// Field and frame names: the value field is named after the metric (incidents, attackers,
// usages, scans) so alert rules and transformations can refer to it; time is "time".
const timeField = "time"

func title(q query.Query) string {
	if p, ok := catalog.Lookup(q.Preset); ok {
		return p.Title
	}
	return strings.ToUpper(q.Metric[:1]) + q.Metric[1:]
}

// series runs a time-series statement and builds one frame per series (timeseries-multi):
// points at bucket ends, every bucket present with 0 where nothing happened.
func (e *Engine) series(ctx context.Context, q query.Query, w period.Window, st statement) (data.Frames, error) {
	buckets := w.Buckets()
	index := make(map[time.Time]int, len(buckets))
	ends := make([]time.Time, len(buckets))
	for i, b := range buckets {
		index[b] = i
		ends[i] = b.Add(w.Bucket)
	}
	rows, err := e.db.Query(ctx, st.sql, st.args...)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q.Metric, err)
	}
	defer rows.Close()

	d := dimensionOf(q.Table(), q.GroupBy)
	type serie struct {
		keys   []string // a text per label of d
		values []int64
	}
	var all []*serie
	var cur *serie
	lastRank := int64(-1)
	for rows.Next() {
		var bucket *time.Time
		var value *int64
		if len(q.GroupBy) == 0 {
			var b time.Time
			var v int64
			if err := rows.Scan(&b, &v); err != nil {
				return nil, fmt.Errorf("read %s points: %w", q.Metric, err)
			}
			bucket, value = &b, &v
			if cur == nil {
				cur = &serie{values: make([]int64, len(buckets))}
				all = append(all, cur)
			}
		} else {
			var rank int64
			texts := make([]string, len(d.labels))
			dest := []any{&rank}
			for i := range texts {
				dest = append(dest, &texts[i])
			}
			dest = append(dest, &bucket, &value)
			if err := rows.Scan(dest...); err != nil {
				return nil, fmt.Errorf("read %s points: %w", q.Metric, err)
			}
			if rank != lastRank {
				lastRank = rank
				cur = &serie{keys: texts, values: make([]int64, len(buckets))}
				all = append(all, cur)
			}
		}
		if bucket == nil || value == nil {
			continue // a top key with no point in the drawn span
		}
		if i, ok := index[bucket.UTC()]; ok {
			cur.values[i] = *value
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s points: %w", q.Metric, err)
	}
	rows.Close() // the names are read on the same connection (a twin read's transaction)
	if len(q.GroupBy) == 0 && len(all) == 0 {
		all = append(all, &serie{values: make([]int64, len(buckets))}) // nothing happened: all zeros
	}
	keys := make([][]string, len(d.labels))
	for _, s := range all {
		for i, k := range s.keys {
			keys[i] = append(keys[i], k)
		}
	}
	names, err := lookupNames(ctx, e.db, d, keys)
	if err != nil {
		return nil, err
	}
	name := title(q)
	frames := make(data.Frames, 0, max(len(all), 1))
	for _, s := range all {
		var labels data.Labels
		display := name
		if len(q.GroupBy) > 0 {
			labels = names.labels(d, s.keys)
			display = legend(d, labels)
		}
		v := data.NewField(q.Metric, labels, s.values)
		v.Config = &data.FieldConfig{DisplayNameFromDS: display}
		frames = append(frames, data.NewFrame(name, data.NewField(timeField, nil, ends), v))
	}
	if len(frames) == 0 {
		// Grouped, and no key had any row: one typed frame without rows.
		frames = append(frames, data.NewFrame(name, data.NewField(timeField, nil, []time.Time{}), data.NewField(q.Metric, nil, []int64{})))
	}
	for _, f := range frames {
		f.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1}}
	}
	return frames, nil
}

// table runs a table or map statement and builds one frame (numeric-long): the columns of each
// key label (see keyNames.fields) and the value, largest first. A map's key column is
// "country", as the Geomap panel's lookup mode expects.
func (e *Engine) table(ctx context.Context, q query.Query, st statement) (data.Frames, error) {
	d := dimensionOf(q.Table(), q.GroupBy)
	keys := make([][]string, len(d.labels))
	for i := range keys {
		keys[i] = []string{}
	}
	values := []int64{}
	rows, err := e.db.Query(ctx, st.sql, st.args...)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q.Metric, err)
	}
	defer rows.Close()
	texts := make([]string, len(d.labels))
	for rows.Next() {
		var v int64
		dest := make([]any, 0, len(texts)+1)
		for i := range texts {
			dest = append(dest, &texts[i])
		}
		dest = append(dest, &v)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read %s rows: %w", q.Metric, err)
		}
		for i, t := range texts {
			keys[i] = append(keys[i], t)
		}
		values = append(values, v)
		if len(values) > e.opts.MaxRows {
			return nil, fmt.Errorf("%w (%w): more than %d rows; set a limit", ErrTooManyRows, query.ErrUnsupported, e.opts.MaxRows)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s rows: %w", q.Metric, err)
	}
	rows.Close() // before the names are read on the same connection
	names, err := lookupNames(ctx, e.db, d, keys)
	if err != nil {
		return nil, err
	}
	name := title(q)
	f := data.NewFrame(name)
	for i, l := range d.labels {
		fields, err := names.fields(l, keys[i])
		if err != nil {
			return nil, err
		}
		f.Fields = append(f.Fields, fields...)
	}
	v := data.NewField(q.Metric, nil, values)
	v.Config = &data.FieldConfig{DisplayNameFromDS: strings.ToUpper(q.Metric[:1]) + q.Metric[1:]}
	f.Fields = append(f.Fields, v)
	f.Meta = &data.FrameMeta{Type: data.FrameTypeNumericLong, TypeVersion: data.FrameTypeVersion{0, 1}}
	return data.Frames{f}, nil
}

// annotate records the statement and the source in the first frame's meta, for Grafana's
// query inspector and for the cache.
func annotate(frames data.Frames, info Info, sql string) {
	if len(frames) == 0 {
		return
	}
	frames[0].Meta.ExecutedQueryString = sql
	frames[0].Meta.Custom = map[string]any{
		"source": info.Source, "precision": info.Precision, "bucketSeconds": info.Bucket.Seconds(),
		"from": info.From, "to": info.To, "until": info.Until, "watermark": info.Watermark,
	}
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
