package greylist

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Order of List results.
type Order string

const (
	OrderIP    Order = ""      // by address, IPv4 first (the CSV order)
	OrderScore Order = "score" // highest score first, then by address
)

// Filter narrows List. Empty lists match everything; within a list any value matches.
type Filter struct {
	Tags      []string // entries with at least one of these tags
	Countries []string // ISO codes, either case
	ASNs      []int
	Prefixes  []netip.Prefix // addresses in one of these prefixes
	MinScore  float64
	Limit     int // 0: no limit
	Order     Order
	// Within, when set, keeps only addresses in one of its ASNs or prefixes (a caller's scope,
	// docs/security.md); an empty Within keeps nothing.
	Within *Within
}

// Within is the part of the greylist a scoped caller may see.
type Within struct {
	ASNs     []int64
	Prefixes []netip.Prefix
}

// validate normalises f (upper-case countries) and checks every value.
func (f *Filter) validate() error {
	for _, t := range f.Tags {
		if !tagPattern.MatchString(t) {
			return fmt.Errorf("%w: tag %q: want lowercase letters, digits, _ or - (builder tags: %s)", ErrInvalid, t, strings.Join(Tags, ", "))
		}
	}
	countries := make([]string, len(f.Countries))
	for i, c := range f.Countries {
		if !isCountry(c) {
			return fmt.Errorf("%w: country %q: want a two-letter ISO code", ErrInvalid, c)
		}
		countries[i] = strings.ToUpper(c)
	}
	f.Countries = countries
	for _, a := range f.ASNs {
		if a < 1 {
			return fmt.Errorf("%w: ASN %d: want a positive AS number", ErrInvalid, a)
		}
	}
	if f.Limit < 0 {
		return fmt.Errorf("%w: limit %d: want 0 (no limit) or more", ErrInvalid, f.Limit)
	}
	if f.Order != OrderIP && f.Order != OrderScore {
		return fmt.Errorf("%w: order %q: want %q or %q", ErrInvalid, f.Order, OrderIP, OrderScore)
	}
	return nil
}

const selectEntry = `SELECT host(ip), tags, score, probes, incidents, coalesce(country, ''), coalesce(asn, 0),
	first_seen, last_seen FROM greylist `

// List returns the current greylist entries matching f.
func List(ctx context.Context, q Querier, f Filter) ([]Entry, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	order := "ip"
	if f.Order == OrderScore {
		order = "score DESC, ip"
	}
	var limit *int
	if f.Limit > 0 {
		limit = &f.Limit
	}
	rows, err := q.Query(ctx, selectEntry+`WHERE `+filterClause+` ORDER BY `+order+` LIMIT $9`,
		append(filterArgs(f), limit)...)
	if err != nil {
		return nil, fmt.Errorf("list greylist: %w", err)
	}
	entries, err := pgx.CollectRows(rows, scanEntry)
	if err != nil {
		return nil, fmt.Errorf("list greylist: %w", err)
	}
	return entries, nil
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// Snapshot returns the list as built on day (its UTC date) within w (nil: all of it), sorted
// by address; empty when no build ran that day.
func Snapshot(ctx context.Context, q Querier, day time.Time, w *Within) ([]Entry, error) {
	d := day.UTC()
	args := append(filterArgs(Filter{Within: w}), d.Format(time.DateOnly))
	rows, err := q.Query(ctx, `SELECT host(ip), tags, score, probes, 0::bigint, coalesce(country, ''), coalesce(asn, 0),
		first_seen, last_seen
		FROM greylist_history WHERE `+filterClause+` AND day = $9 ORDER BY ip`, args...)
	if err != nil {
		return nil, fmt.Errorf("read greylist snapshot %s: %w", d.Format(time.DateOnly), err)
	}
	entries, err := pgx.CollectRows(rows, scanEntry)
	if err != nil {
		return nil, fmt.Errorf("read greylist snapshot %s: %w", d.Format(time.DateOnly), err)
	}
	return entries, nil
}

// DaySize is the number of addresses in one day's snapshot.
type DaySize struct {
	Day  time.Time // UTC midnight
	Size int
}

// filterClause matches f's tags, countries, ASNs, minimum score, Within and prefixes (parameters $1–$8)
// on either the current list or a snapshot; empty filters go in as NULL, so one statement
// serves every combination.
const filterClause = `($1::text[] IS NULL OR tags && $1)
		  AND ($2::text[] IS NULL OR country = ANY ($2))
		  AND ($3::int[] IS NULL OR asn = ANY ($3))
		  AND score >= $4
		  AND (NOT $5::bool OR asn = ANY ($6::bigint[]) OR ip <<= ANY ($7::inet[]))
		  AND ($8::inet[] IS NULL OR ip <<= ANY ($8))`

func filterArgs(f Filter) []any {
	within := f.Within != nil
	var asns []int64
	var prefixes []netip.Prefix
	if within {
		asns, prefixes = f.Within.ASNs, f.Within.Prefixes
	}
	return []any{nilIfEmpty(f.Tags), nilIfEmpty(f.Countries), nilIfEmpty(f.ASNs), f.MinScore, within, asns, prefixes, nilIfEmpty(f.Prefixes)}
}

// Sizes returns how many addresses matching f each day's snapshot in [from, to] held, oldest
// first, for every day that has a snapshot: the "greylist size over time" panel. f.Limit and
// f.Order don't apply.
func Sizes(ctx context.Context, q Querier, f Filter, from, to time.Time) ([]DaySize, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT day::timestamp AT TIME ZONE 'UTC', count(*) FILTER (WHERE `+filterClause+`)::int
		FROM greylist_history WHERE day BETWEEN $9 AND $10 GROUP BY day ORDER BY day`,
		append(filterArgs(f), from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly))...)
	if err != nil {
		return nil, fmt.Errorf("read greylist sizes: %w", err)
	}
	sizes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DaySize, error) {
		var s DaySize
		err := row.Scan(&s.Day, &s.Size)
		s.Day = s.Day.UTC()
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("read greylist sizes: %w", err)
	}
	return sizes, nil
}

func scanEntry(row pgx.CollectableRow) (Entry, error) {
	var (
		e           Entry
		ip          string
		asn         int32
		first, last *time.Time
	)
	if err := row.Scan(&ip, &e.Tags, &e.Score, &e.Probes, &e.Incidents, &e.Country, &asn, &first, &last); err != nil {
		return e, err
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return e, fmt.Errorf("stored address %q: %w", ip, err)
	}
	e.IP, e.ASN = addr, int(asn)
	if first != nil {
		e.FirstSeen = first.UTC()
	}
	if last != nil {
		e.LastSeen = last.UTC()
	}
	return e, nil
}

func isCountry(c string) bool {
	if len(c) != 2 {
		return false
	}
	for _, r := range c {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}
