package engine

import (
	"time"
)

// span is a half-open run [from, to) of consecutive buckets.
type span struct{ from, to time.Time }

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
