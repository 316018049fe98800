// Package report builds the periodic reports network operators get about their address space
// (docs/reports.md): what each of their addresses did to the probes in a window, against the
// window before, as text, CSV and IDEA JSON; and delivers them by SMTP or webhook with a
// ledger, so that no report is sent twice or skipped.
package report

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sview-project/sview/internal/contacts"
)

// Report is what one contact gets about one window.
type Report struct {
	Contact          contacts.Contact
	From, To         time.Time // the window, [From, To)
	PrevFrom, PrevTo time.Time // the window before
	Incidents, Prev  int64     // incidents in the window and in the one before
	Addresses        int       // addresses active in the window
	PrevAddresses    int       // addresses active in the window before
	Kinds            []Kind    // by trap and action, busiest first
	Hosts            []Host    // the active addresses, busiest first
	Greylisted       int       // active addresses on the greylist when the report was built
	Generated        time.Time
}

// Kind counts incidents of one trap and action.
type Kind struct {
	Trap, Action    string
	Incidents, Prev int64
}

// Host is one address active in the window. First and last seen are known to the hour: the
// report reads the hourly rollup.
type Host struct {
	IP              netip.Addr
	FirstSeen       time.Time // start of the first hour with an incident
	LastSeen        time.Time // end of the last hour with an incident
	Incidents, Prev int64
	Probes          int
	Traps           []string // sorted
	Actions         []string // sorted
	Greylisted      bool     // on the greylist when the report was built
	Score           float64  // greylist score, when greylisted
	Tags            []string // greylist tags, when greylisted
}

// Empty reports whether nothing of the contact's space was seen in the window: no report is
// sent then.
func (r *Report) Empty() bool { return r.Incidents == 0 }

// Build reads the report of contact c about the window [from, to) and the one before from the
// hourly rollup of incidents, which must have closed to; generated stamps it. Only rows in c's
// space, and in no more specific contact's, are read.
func Build(ctx context.Context, q contacts.Querier, c contacts.Contact, from, to, generated time.Time) (*Report, error) {
	r := &Report{Contact: c, From: from.UTC(), To: to.UTC(), Generated: generated.UTC()}
	r.PrevFrom, r.PrevTo = c.Cadence.Previous(r.From)
	owns, space := contacts.Owns(c)
	// $1 is the contact's space (contacts.Owns); the windows follow.
	rows, err := q.Query(ctx, `
		SELECT trap::text, action::text,
			coalesce(sum(raw_count) FILTER (WHERE time >= $3), 0),
			coalesce(sum(raw_count) FILTER (WHERE time < $3), 0)
		FROM incidents_hourly r
		WHERE time >= $2 AND time < $4 AND `+owns+`
		GROUP BY 1, 2 ORDER BY 3 DESC, 4 DESC, 1, 2`, space, r.PrevFrom, r.From, r.To)
	if err != nil {
		return nil, fmt.Errorf("report of %s: incidents by kind: %w", c.Key(), err)
	}
	r.Kinds, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Kind, error) {
		var k Kind
		err := row.Scan(&k.Trap, &k.Action, &k.Incidents, &k.Prev)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("report of %s: incidents by kind: %w", c.Key(), err)
	}
	for _, k := range r.Kinds {
		r.Incidents += k.Incidents
		r.Prev += k.Prev
	}
	rows, err = q.Query(ctx, `
		SELECT r.ip,
			min(r.time) FILTER (WHERE r.time >= $3), max(r.time) FILTER (WHERE r.time >= $3) + interval '1 hour',
			coalesce(sum(r.raw_count) FILTER (WHERE r.time >= $3), 0),
			coalesce(sum(r.raw_count) FILTER (WHERE r.time < $3), 0),
			count(DISTINCT r.identity_id) FILTER (WHERE r.time >= $3),
			coalesce(array_agg(DISTINCT r.trap::text) FILTER (WHERE r.time >= $3), '{}'),
			coalesce(array_agg(DISTINCT r.action::text) FILTER (WHERE r.time >= $3), '{}'),
			g.ip IS NOT NULL, coalesce(g.score, 0), coalesce(g.tags, '{}')
		FROM incidents_hourly r LEFT JOIN greylist g ON g.ip = r.ip
		WHERE r.time >= $2 AND r.time < $4 AND `+owns+`
		GROUP BY r.ip, g.ip, g.score, g.tags`, space, r.PrevFrom, r.From, r.To)
	if err != nil {
		return nil, fmt.Errorf("report of %s: addresses: %w", c.Key(), err)
	}
	type scanned struct {
		Host
		first, last *time.Time
		ip          netip.Prefix
	}
	all, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (scanned, error) {
		var s scanned
		err := row.Scan(&s.ip, &s.first, &s.last, &s.Incidents, &s.Prev, &s.Probes, &s.Traps, &s.Actions,
			&s.Greylisted, &s.Score, &s.Tags)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("report of %s: addresses: %w", c.Key(), err)
	}
	for _, s := range all {
		if s.Prev > 0 {
			r.PrevAddresses++
		}
		if s.Incidents == 0 {
			continue
		}
		h := s.Host
		h.IP, h.FirstSeen, h.LastSeen = s.ip.Addr(), s.first.UTC(), s.last.UTC()
		slices.Sort(h.Traps)
		slices.Sort(h.Actions)
		slices.Sort(h.Tags)
		if h.Greylisted {
			r.Greylisted++
		}
		r.Hosts = append(r.Hosts, h)
	}
	slices.SortFunc(r.Hosts, func(a, b Host) int {
		if c := cmp.Compare(b.Incidents, a.Incidents); c != 0 {
			return c
		}
		return a.IP.Compare(b.IP)
	})
	r.Addresses = len(r.Hosts)
	return r, nil
}
