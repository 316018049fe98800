// Package trend ranks keys by how their counts change: for each key the total of the current
// window and of the previous one (same length, immediately before), their absolute and
// relative change, and the least-squares slope of the current window's buckets. It is pure:
// the query service (internal/stats) feeds it the engine's answers.
package trend

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sview-project/sview/internal/period"
)

// Directions of a ranking.
const (
	Rising  = "rising"
	Falling = "falling"
)

// Directions lists the directions a trend query takes, the default first.
var Directions = []string{Rising, Falling}

// Bucket counts a window is cut into: at least MinBuckets where the finest precision allows,
// at most MaxBuckets, so a slope has points to fit and all keys × buckets stay within the
// engine's row guard.
const (
	MinBuckets = 6
	MaxBuckets = 60
)

const day = 24 * time.Hour

// Bucket is the bucket width for a window of length: the coarsest precision step that cuts it
// into at least MinBuckets (daily for a week, hourly for a day, quarter-hours for an hour and a
// half), widened to whole steps so there are at most MaxBuckets (2 days for 3 months, 7 for a
// year). The steps are those of the rollups, so every bucket is whole rollup rows.
func Bucket(length time.Duration) time.Duration {
	steps := []time.Duration{period.Daily.Step(), period.Hourly.Step(), period.Quarterly.Step(), period.Raw.Step()}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if length/s >= MinBuckets {
			step = s
			break
		}
	}
	n := max(int64(length/step), 1)
	per := (n + MaxBuckets - 1) / MaxBuckets
	return time.Duration(per) * step
}

// Windows are the current window and the previous one of equal length before it.
type Windows struct {
	Current, Previous period.Range // Interval is the bucket
}

// Buckets is how many buckets the current window holds.
func (w Windows) Buckets() int { return int(w.Current.To.Sub(w.Current.From) / w.Current.Interval) }

// BucketRanges are the current window's buckets, each a range of one bucket.
func (w Windows) BucketRanges() []period.Range {
	out := make([]period.Range, w.Buckets())
	for i := range out {
		from := w.Current.From.Add(time.Duration(i) * w.Current.Interval)
		out[i] = period.Range{From: from, To: from.Add(w.Current.Interval), Interval: w.Current.Interval}
	}
	return out
}

// WindowsAt are the windows of length ending at end: end is floored to the bucket, so every
// bucket is whole (a partial last bucket would read as a fall), and the length is rounded down
// to whole buckets (at least one).
func WindowsAt(end time.Time, length, bucket time.Duration) Windows {
	to := period.Floor(end, bucket)
	span := max(length/bucket, 1) * bucket
	cur := period.Range{From: to.Add(-span), To: to, Interval: bucket}
	prev := period.Range{From: cur.From.Add(-span), To: cur.From, Interval: bucket}
	return Windows{Current: cur, Previous: prev}
}

// Key is one key's input: its labels (the key's columns as the engine names them, e.g.
// asn), its totals over both windows and its counts per bucket of the current window.
type Key struct {
	Labels   map[string]string
	Current  int64
	Previous int64
	Series   []int64
}

// Row is one key's trend.
type Row struct {
	Labels   map[string]string `json:"labels"`
	Current  int64             `json:"current"`
	Previous int64             `json:"previous"`
	// Change is Current - Previous.
	Change int64 `json:"change"`
	// ChangeRatio is Change / Previous, nil when Previous is 0: a key new in the current
	// window has no base to be relative to (and no number may be infinite in a frame).
	ChangeRatio *float64 `json:"changeRatio"`
	// SlopePerDay is the least-squares slope of the current window's buckets, in counts per
	// bucket gained per day: the same reading whatever the bucket width.
	SlopePerDay float64 `json:"slopePerDay"`
}

// Slope is the least-squares slope of values against their index (per bucket); 0 for fewer
// than two values.
func Slope(values []int64) float64 {
	n := float64(len(values))
	if n < 2 {
		return 0
	}
	mean := (n - 1) / 2 // of the indexes 0 … n-1
	var num, den float64
	for i, v := range values {
		dx := float64(i) - mean
		num += dx * float64(v)
		den += dx * dx
	}
	return num / den
}

// Compute turns keys into rows; bucket converts the per-bucket slope to per day.
func Compute(keys []Key, bucket time.Duration) []Row {
	perDay := float64(day) / float64(bucket)
	rows := make([]Row, len(keys))
	for i, k := range keys {
		r := Row{Labels: k.Labels, Current: k.Current, Previous: k.Previous, Change: k.Current - k.Previous,
			SlopePerDay: Slope(k.Series) * perDay}
		if k.Previous != 0 {
			ratio := float64(r.Change) / float64(k.Previous)
			r.ChangeRatio = &ratio
		}
		rows[i] = r
	}
	return rows
}

// Rank keeps the rows moving in direction (a positive slope for rising, a negative one for
// falling), steepest first, and at most limit of them (0: all). Ties go to the larger absolute
// change, then to the key, so the order is deterministic. The slope ranks rather than the
// change: two window totals say nothing of a one-day burst against a steady climb, while the
// slope weighs every bucket.
func Rank(rows []Row, direction string, limit int) []Row {
	sign := 1.0
	if direction == Falling {
		sign = -1
	}
	var out []Row
	for _, r := range rows {
		if sign*r.SlopePerDay > 0 {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Row) int {
		if c := cmp.Compare(sign*b.SlopePerDay, sign*a.SlopePerDay); c != 0 {
			return c
		}
		if c := cmp.Compare(sign*float64(b.Change), sign*float64(a.Change)); c != 0 {
			return c
		}
		return strings.Compare(keyText(a.Labels), keyText(b.Labels))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// keyText is a canonical text of labels: name=value pairs sorted by name.
func keyText(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(labels[n])
		b.WriteByte(0)
	}
	return b.String()
}

// Count is one key's total over a window.
type Count struct {
	Labels map[string]string
	Value  int64
}

// Join gathers every key of either window (those of the current one first, in their order): a
// key absent from a window counts 0 there. buckets holds the counts of each bucket of the
// current window, up to n buckets; a key absent from a bucket counts 0 in it, and no buckets
// at all mean all zeros. A key counted in a bucket but not in the current window's totals is an
// error: the totals and the buckets would not describe the same keys.
func Join(current, previous []Count, buckets [][]Count, n int) ([]Key, error) {
	index := map[string]int{}
	var keys []Key
	at := func(labels map[string]string) *Key {
		t := keyText(labels)
		i, ok := index[t]
		if !ok {
			i = len(keys)
			index[t] = i
			keys = append(keys, Key{Labels: labels, Series: make([]int64, n)})
		}
		return &keys[i]
	}
	for _, c := range current {
		at(c.Labels).Current += c.Value
	}
	inCurrent := len(keys)
	for _, c := range previous {
		at(c.Labels).Previous += c.Value
	}
	if len(buckets) > n {
		return nil, fmt.Errorf("trend: %d buckets of counts for a window of %d", len(buckets), n)
	}
	for b, counts := range buckets {
		for _, c := range counts {
			i, ok := index[keyText(c.Labels)]
			if !ok || i >= inCurrent {
				return nil, fmt.Errorf("trend: %v is counted in bucket %d but has no total in the current window", c.Labels, b)
			}
			keys[i].Series[b] += c.Value
		}
	}
	return keys, nil
}
