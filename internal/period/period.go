// Package period holds the seven display periods of Sentinel View, the bucket alignment of
// their windows, and the choice of a source precision for a free dashboard time range.
// Everything here is pure and works in UTC.
package period

import (
	"fmt"
	"slices"
	"time"
)

// Precision names where rows are read from: the raw tables or one of the rollups.
type Precision string

// The source precisions, finest first. Their names are the rollup table suffixes (see
// internal/derived) and the precision column of the state tables.
const (
	Raw       Precision = "raw"
	Quarterly Precision = "quarterly"
	Hourly    Precision = "hourly"
	Daily     Precision = "daily"
)

// Precisions lists every source precision, finest first.
var Precisions = []Precision{Raw, Quarterly, Hourly, Daily}

// Step is the bucket width rows of the precision are stamped with. Raw rows carry exact
// timestamps; for raw the step is the finest bucket we ever draw (one minute).
func (p Precision) Step() time.Duration {
	switch p {
	case Quarterly:
		return 15 * time.Minute
	case Hourly:
		return time.Hour
	case Daily:
		return 24 * time.Hour
	}
	return time.Minute
}

// RawTail is how much of the newest raw data graphs leave out: the dumper writes with a delay,
// so the last minutes are incomplete and would show as a false dip.
const RawTail = 5 * time.Minute

// Period is one row of the original period table (DESIGN §3).
type Period struct {
	Name     string
	Label    string
	Range    time.Duration // length of the window
	Bucket   time.Duration // width of one point
	CacheTTL time.Duration // how long a cached answer may be served
	Refresh  time.Duration // how often a cached answer is recomputed
	Floor    time.Duration // window ends are floored to a multiple of this (UTC)
	Source   Precision
}

// Points is the number of buckets in the window.
func (p Period) Points() int { return int(p.Range / p.Bucket) }

const day = 24 * time.Hour

// All is the period table, shortest first. 1m is 30 days and 1y is 378 days (27 × 14 days),
// as in the original.
var All = []Period{
	{Name: "1h", Label: "Hour", Range: time.Hour, Bucket: time.Minute, CacheTTL: 5 * time.Minute, Refresh: time.Minute, Floor: time.Minute, Source: Raw},
	{Name: "6h", Label: "6 Hours", Range: 6 * time.Hour, Bucket: 15 * time.Minute, CacheTTL: 25 * time.Minute, Refresh: 15 * time.Minute, Floor: 15 * time.Minute, Source: Quarterly},
	{Name: "1d", Label: "Day", Range: day, Bucket: 30 * time.Minute, CacheTTL: 50 * time.Minute, Refresh: 30 * time.Minute, Floor: 30 * time.Minute, Source: Quarterly},
	{Name: "1w", Label: "Week", Range: 7 * day, Bucket: 3 * time.Hour, CacheTTL: 4 * time.Hour, Refresh: 3 * time.Hour, Floor: 3 * time.Hour, Source: Hourly},
	{Name: "1m", Label: "Month", Range: 30 * day, Bucket: day, CacheTTL: 25 * time.Hour, Refresh: day, Floor: day, Source: Daily},
	{Name: "3m", Label: "3 Months", Range: 90 * day, Bucket: 2 * day, CacheTTL: 25 * time.Hour, Refresh: day, Floor: day, Source: Daily},
	{Name: "1y", Label: "Year", Range: 378 * day, Bucket: 14 * day, CacheTTL: 25 * time.Hour, Refresh: day, Floor: day, Source: Daily},
}

// Names lists the period names in table order.
func Names() []string {
	names := make([]string, len(All))
	for i, p := range All {
		names[i] = p.Name
	}
	return names
}

// Lookup finds a period by name.
func Lookup(name string) (Period, bool) {
	i := slices.IndexFunc(All, func(p Period) bool { return p.Name == name })
	if i < 0 {
		return Period{}, false
	}
	return All[i], true
}

// Window is the half-open time span [From, To) a query reads, cut into buckets of Bucket
// starting at From, read from the Source precision.
type Window struct {
	From   time.Time
	To     time.Time
	Bucket time.Duration
	Source Precision
	// Until is where rows stop being read; before To when the newest raw minutes are left out.
	// Buckets after Until are not drawn.
	Until time.Time
}

// Buckets returns the start of every drawn bucket (those that begin before Until).
func (w Window) Buckets() []time.Time {
	var out []time.Time
	for t := w.From; t.Before(w.Until); t = t.Add(w.Bucket) {
		out = append(out, t)
	}
	return out
}

// Floor truncates t (UTC) to a multiple of d counted from the Unix epoch; for every d that
// divides a day this is the minute / quarter / half-hour / 3-hour / midnight boundary.
func Floor(t time.Time, d time.Duration) time.Time {
	return time.Unix(0, 0).UTC().Add(t.UTC().Sub(time.Unix(0, 0)).Truncate(d))
}

// Ceil is the first multiple of d (as Floor counts them) at or after t.
func Ceil(t time.Time, d time.Duration) time.Time {
	f := Floor(t, d)
	if f.Before(t) {
		return f.Add(d)
	}
	return f
}

// Window is the window of this period at now, as the original computed it: the end is the last
// floor boundary at or before now and the start lies one Range before it. Graphs read from raw
// rows leave out the newest RawTail (trimTail), so the 1h graph has 55 points.
func (p Period) Window(now time.Time, trimTail bool) Window {
	to := Floor(now, p.Floor)
	w := Window{From: to.Add(-p.Range), To: to, Until: to, Bucket: p.Bucket, Source: p.Source}
	if trimTail && p.Source == Raw {
		w.Until = to.Add(-RawTail)
	}
	return w
}

// Range is a dashboard time range with Grafana's suggested interval between points.
type Range struct {
	From     time.Time
	To       time.Time
	Interval time.Duration
}

// Aligned rounds the range outwards to whole intervals (at least one minute), so requests made
// moments apart share one window, one plan and one cache key.
func (r Range) Aligned() Range {
	iv := max(r.Interval, time.Minute).Truncate(time.Minute)
	to := Floor(r.To, iv)
	if to.Before(r.To) {
		to = to.Add(iv)
	}
	return Range{From: Floor(r.From, iv), To: to, Interval: iv}
}

// Availability says from when each precision holds data; a precision missing from the map
// holds none. Raw data may be dropped by retention long before rollups are.
type Availability map[Precision]time.Time

// ErrEmptyRange reports a dashboard range that ends at or before its start.
var ErrEmptyRange = fmt.Errorf("time range is empty")

// Plan picks the source for a dashboard range: the coarsest precision whose step is no larger
// than the interval and which still holds data for the range start. When no precision holds
// data that far back, the coarsest whose step fits the interval is used (it simply has no rows
// for the early part); when the interval is finer than every precision that reaches the start,
// the finest precision that reaches it is used. The bucket is the interval rounded down to a
// multiple of the chosen step (at least one step), and the window is widened to whole buckets,
// aligned to the Unix epoch so rollup rows never straddle a bucket.
func Plan(r Range, avail Availability) (Window, error) {
	if !r.To.After(r.From) {
		return Window{}, fmt.Errorf("%w: from %s, to %s", ErrEmptyRange, r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339))
	}
	iv := max(r.Interval, time.Minute)
	holds := func(p Precision) bool {
		oldest, ok := avail[p]
		return ok && !oldest.After(r.From)
	}
	var fits, reaches, both []Precision
	for _, p := range Precisions {
		if p.Step() <= iv {
			fits = append(fits, p)
		}
		if holds(p) {
			reaches = append(reaches, p)
			if p.Step() <= iv {
				both = append(both, p)
			}
		}
	}
	var src Precision
	switch {
	case len(both) > 0:
		src = both[len(both)-1]
	case len(reaches) > 0:
		src = reaches[0]
	default:
		src = fits[len(fits)-1] // Raw always fits: its step is the one-minute minimum.
	}
	bucket := max(iv.Truncate(src.Step()), src.Step())
	from := Floor(r.From, bucket)
	to := Floor(r.To, bucket)
	if to.Before(r.To) {
		to = to.Add(bucket)
	}
	return Window{From: from, To: to, Until: to, Bucket: bucket, Source: src}, nil
}
