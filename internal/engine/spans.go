package engine

import (
	"time"

	"github.com/sview-project/sview/internal/period"
)

// span is a half-open run [from, to) of consecutive buckets.
type span struct{ from, to time.Time }

// bounds is the first start and the last end of the runs of spans, each run in order; zero
// when every run is empty.
func bounds(runs ...[]span) (from, until time.Time) {
	for _, spans := range runs {
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

// cut splits the buckets of [from, until), step long, into the runs of those listed holds
// (by their UTC start) and the runs of the others.
func cut(from, until time.Time, step time.Duration, listed map[time.Time]bool) (in, out []span) {
	for b := from; b.Before(until); b = b.Add(step) {
		if listed[b.UTC()] {
			in = appendSpan(in, b, b.Add(step))
		} else {
			out = appendSpan(out, b, b.Add(step))
		}
	}
	return in, out
}

// wholeDays splits spans into the whole days inside them that days covers and no pending
// range touches, and the rest.
func wholeDays(spans, days, pending []span) (rest, whole []span) {
	day := period.Daily.Step()
	for _, sp := range spans {
		at := sp.from
		for d := period.Ceil(sp.from, day); !d.Add(day).After(sp.to); d = d.Add(day) {
			if !covers(days, d, d.Add(day)) || overlaps(pending, d, d.Add(day)) {
				continue
			}
			rest = appendSpan(rest, at, d)
			whole = appendSpan(whole, d, d.Add(day))
			at = d.Add(day)
		}
		rest = appendSpan(rest, at, sp.to)
	}
	return rest, whole
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

// overlaps reports whether one of the ranges, closed at both ends as invalidations are
// recorded, touches [from, to).
func overlaps(ranges []span, from, to time.Time) bool {
	for _, r := range ranges {
		if r.from.Before(to) && !r.to.Before(from) {
			return true
		}
	}
	return false
}
