package query

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// ErrForbidden marks a query for data outside the caller's scope.
var ErrForbidden = errors.New("forbidden")

// Restriction limits the rows a stats or greylist query reads to those of some probes, some
// attacking ASNs or some attacking prefixes: a row matching any of them. The server sets it
// from the caller's scope (Parse never reads it); it is part of the query's JSON and so of its
// cache key. An empty, non-nil restriction matches nothing.
type Restriction struct {
	Probes   []int64        `json:"probes,omitempty"`
	ASNs     []int64        `json:"asns,omitempty"`
	Prefixes []netip.Prefix `json:"prefixes,omitempty"`
}

// Scope is what one caller may see (docs/security.md).
type Scope struct {
	// All is everything, every probe's own data included.
	All bool
	// Public is every row, but no probe's own data beyond Probes: what the public API serves.
	Public bool
	// Activity is when every probe reported (the probes query and silence annotations), none
	// of its attack data: what an alert on silent probes needs.
	Activity bool
	// Probes are the probes whose own data the caller may see (claimed by token, or granted).
	Probes []int64
	// ASNs and Prefixes are the attackers a network operator may see.
	ASNs     []int64
	Prefixes []netip.Prefix
}

// Union is what a caller granted both s and o may see.
func (s Scope) Union(o Scope) Scope {
	return Scope{
		All: s.All || o.All, Public: s.Public || o.Public, Activity: s.Activity || o.Activity,
		Probes:   sortedUnique(append(slices.Clone(s.Probes), o.Probes...)),
		ASNs:     sortedUnique(append(slices.Clone(s.ASNs), o.ASNs...)),
		Prefixes: uniquePrefixes(append(slices.Clone(s.Prefixes), o.Prefixes...)),
	}
}

func uniquePrefixes(ps []netip.Prefix) []netip.Prefix {
	if len(ps) == 0 {
		return nil
	}
	for i, p := range ps {
		ps[i] = p.Masked()
	}
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return slices.Compact(ps)
}

// Apply narrows a validated query to the scope. A probe's own data (a probe filter, an
// exclusion of a probe, or a grouping by probe) needs the probe in Probes: a filter or an
// exclusion naming another probe is ErrForbidden, a grouping without a filter is narrowed to
// Probes. Outside All and Public, every stats and greylist row must also match the scope
// (Restriction). A query its ad-hoc filters left empty is restricted to no row, for every
// scope. Leak lookups and status hold no probe or attacker data and pass unchanged.
func (s Scope) Apply(q Query) (Query, error) {
	q.Restrict, q.ProbeLabels = nil, nil
	if q.Empty {
		q.Restrict = &Restriction{} // nothing to read, whoever asks
		return q, nil
	}
	if s.All {
		return q, nil
	}
	switch q.QueryType {
	case TypeStats, TypeTrend, TypeEvents, TypeLive:
		q = q.withProbeLabels(s.Probes) // a raw row names another probe only to All
		for _, p := range q.Filters.Probe {
			if !slices.Contains(s.Probes, p) {
				return q, fmt.Errorf("%w: probe %d is not among your probes; claim it with its device token", ErrForbidden, p)
			}
		}
		// The total less the rows of a probe is that probe's own data by difference.
		for _, p := range q.Exclude.Probe {
			if !slices.Contains(s.Probes, p) {
				return q, fmt.Errorf("%w: probe %d is not among your probes, so it cannot be excluded either; claim it with its device token", ErrForbidden, p)
			}
		}
		if q.GroupBy.Has("probe") && len(q.Filters.Probe) == 0 {
			if len(s.Probes) == 0 {
				return q, fmt.Errorf("%w: grouping by probe shows your own probes only, and you have none; claim one with its device token", ErrForbidden)
			}
			q.Filters.Probe = s.Probes
		}
		if !s.Public {
			q.Restrict = &Restriction{Probes: s.Probes, ASNs: s.ASNs, Prefixes: s.Prefixes}
		}
	case TypeGreylist:
		if !s.Public {
			q.Restrict = &Restriction{ASNs: s.ASNs, Prefixes: s.Prefixes}
		}
	case TypeAnnotations, TypeProbes:
		switch {
		case q.aboutOwnProbes():
			return s.ownProbes(q)
		case q.Annotation == AnnotationGreylist && !s.Public:
			q.Restrict = &Restriction{ASNs: s.ASNs, Prefixes: s.Prefixes}
		}
	}
	return q, nil
}

// ownProbes narrows a query about probes' own reports to the caller's probes: a probe filter
// outside them is ErrForbidden, no filter means all of them. Activity sees every probe.
func (s Scope) ownProbes(q Query) (Query, error) {
	if s.Activity {
		return q, nil
	}
	for _, p := range q.Filters.Probe {
		if !slices.Contains(s.Probes, p) {
			return q, fmt.Errorf("%w: probe %d is not among your probes; claim it with its device token", ErrForbidden, p)
		}
	}
	if len(q.Filters.Probe) == 0 {
		if len(s.Probes) == 0 {
			return q, fmt.Errorf("%w: when a probe reported is its own data, and you have no probe; claim one with its device token", ErrForbidden)
		}
		q.Filters.Probe = s.Probes
	}
	return q, nil
}
