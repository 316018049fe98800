package live

import (
	"net/netip"
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/sview-project/sview/internal/query"
)

// Rates of a stream, in events per second.
const (
	DefaultRate = 50
	MaxRate     = 1000
)

// Filter is one subscriber's view of the fanned-out rows: a live query (filters, exclusions,
// and the restriction its caller's scope put on it) and whose probes' serials it may see.
type Filter struct {
	q        query.Query
	ips      []netip.Prefix
	excluded []netip.Prefix
	serials  func(probe int64) bool
}

// NewFilter makes the filter of q, a live query already narrowed by scope.Apply(q).
func NewFilter(q query.Query, scope query.Scope) Filter {
	return Filter{q: q, ips: prefixes(q.Filters.IP), excluded: prefixes(q.Exclude.IP),
		serials: func(p int64) bool { return scope.All || slices.Contains(scope.Probes, p) }}
}

// prefixes parses canonical addresses and prefixes (query.Normalize wrote them, Validate
// checked them).
func prefixes(ips []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ips {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out
}

// Match reports whether e passes the filters, the exclusions and the scope.
func (f Filter) Match(e Event) bool {
	fl, ex := f.q.Filters, f.q.Exclude
	if !oneOf(fl.Probe, e.Probe) || !oneOf(fl.ASN, e.ASN) || !oneOf(fl.Country, e.Country) ||
		!oneOf(fl.Trap, e.Trap) || !oneOf(fl.Action, e.Action) || (len(f.ips) > 0 && !within(f.ips, e.IP)) {
		return false
	}
	// A row without the excluded column's value (no country, no ASN) is never excluded.
	if slices.Contains(ex.Probe, e.Probe) || (e.ASN != 0 && slices.Contains(ex.ASN, e.ASN)) ||
		(e.Country != "" && slices.Contains(ex.Country, e.Country)) || slices.Contains(ex.Trap, e.Trap) ||
		slices.Contains(ex.Action, e.Action) || within(f.excluded, e.IP) {
		return false
	}
	r := f.q.Restrict
	if r == nil {
		return true
	}
	return slices.Contains(r.Probes, e.Probe) || (e.ASN != 0 && slices.Contains(r.ASNs, e.ASN)) || within(r.Prefixes, e.IP)
}

// Shown is e as this subscriber may see it: a probe's serial only for the caller's probes.
func (f Filter) Shown(e Event) Event {
	if !f.serials(e.Probe) {
		e.Probe, e.Serial = 0, ""
	}
	return e
}

func oneOf[T comparable](allowed []T, v T) bool {
	return len(allowed) == 0 || slices.Contains(allowed, v)
}

func within(ps []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Limiter bounds a stream's rate: a token bucket of one second's worth of events, and a count
// of the events it turned away.
type Limiter struct {
	bucket  *rate.Limiter
	dropped int64
}

// NewLimiter allows perSecond events a second, in bursts of as many.
func NewLimiter(perSecond int) *Limiter {
	return &Limiter{bucket: rate.NewLimiter(rate.Limit(perSecond), perSecond)}
}

// Take keeps the events the bucket allows at now, in order, and counts the others as dropped.
func (l *Limiter) Take(now time.Time, events []Event) []Event {
	kept := events[:0:0]
	for _, e := range events {
		if l.bucket.AllowN(now, 1) {
			kept = append(kept, e)
		} else {
			l.dropped++
		}
	}
	return kept
}

// Drop counts events lost before the limiter (a subscriber that fell behind).
func (l *Limiter) Drop(n int64) { l.dropped += n }

// Dropped is how many events this stream did not deliver.
func (l *Limiter) Dropped() int64 { return l.dropped }
