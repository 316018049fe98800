// Package contacts holds the abuse contacts of networks: who gets `sview report`'s reports about
// an AS number or a prefix, in which language and how often. It reads them from a CSV file and
// decides which contact an address belongs to (the most specific one).
package contacts

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Querier is what a pool, a connection and a transaction have in common.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ErrInvalid marks a value the operator can fix (a CSV field, a flag); test with errors.Is.
var ErrInvalid = errors.New("invalid contact")

// Cadence is how often a contact gets a report: each one covers the last whole day, ISO week
// (Monday to Monday) or calendar month, UTC.
type Cadence string

const (
	Daily   Cadence = "1d"
	Weekly  Cadence = "1w"
	Monthly Cadence = "1m"
)

// Cadences lists every cadence, shortest first.
var Cadences = []Cadence{Daily, Weekly, Monthly}

// ParseCadence checks s.
func ParseCadence(s string) (Cadence, error) {
	for _, c := range Cadences {
		if string(c) == s {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: cadence %q: want 1d, 1w or 1m", ErrInvalid, s)
}

// Window is the last whole window of c that ends at or before t: [from, to).
func (c Cadence) Window(t time.Time) (from, to time.Time) {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch c {
	case Weekly:
		to = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7)) // back to Monday
		return to.AddDate(0, 0, -7), to
	case Monthly:
		to = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return to.AddDate(0, -1, 0), to
	}
	return day.AddDate(0, 0, -1), day
}

// Previous is the window of c that ends at from, the start of a window of c.
func (c Cadence) Previous(from time.Time) (time.Time, time.Time) {
	return c.Window(from)
}

// Languages are the languages reports are written in.
var Languages = []string{"en", "cs"}

// Contact is one row of the contacts table: the abuse desk of an AS number or of a prefix.
type Contact struct {
	ASN       int          // 0 for a prefix contact
	Prefix    netip.Prefix // invalid for an ASN contact
	Emails    []string
	Webhook   string // "" for none
	Language  string
	Cadence   Cadence
	CreatedAt time.Time // when the contact was first imported: it gets no report of an older window
}

// Key names the contact's space: "AS2852" or "147.32.0.0/15". The ledger refers to contacts
// by it.
func (c Contact) Key() string {
	if c.Prefix.IsValid() {
		return c.Prefix.String()
	}
	return "AS" + strconv.Itoa(c.ASN)
}

// ParseSpace reads an AS number ("AS2852", "as2852" or "2852") or a prefix ("147.32.0.0/15",
// or a single address); a prefix with host bits set is refused, since it was probably mistyped.
func ParseSpace(s string) (asn int, prefix netip.Prefix, err error) {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "./:") {
		if p, err := netip.ParsePrefix(s); err == nil {
			if p != p.Masked() {
				return 0, netip.Prefix{}, fmt.Errorf("%w: prefix %s has host bits set: did you mean %s?", ErrInvalid, s, p.Masked())
			}
			return 0, p.Masked(), nil
		}
		if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
			a = a.Unmap()
			return 0, netip.PrefixFrom(a, a.BitLen()), nil
		}
		return 0, netip.Prefix{}, fmt.Errorf("%w: space %q: want an AS number or a prefix", ErrInvalid, s)
	}
	digits := strings.TrimPrefix(strings.ToUpper(s), "AS")
	n, err := strconv.ParseUint(digits, 10, 31)
	if err != nil || n == 0 {
		return 0, netip.Prefix{}, fmt.Errorf("%w: space %q: want an AS number (1 to 2147483647) or a prefix", ErrInvalid, s)
	}
	return int(n), netip.Prefix{}, nil
}

var languagePattern = regexp.MustCompile(`^[a-z]{2}$`)

// validate checks every field but the space.
func (c *Contact) validate() error {
	for _, e := range c.Emails {
		a, err := mail.ParseAddress(e)
		if err != nil || a.Address != e || a.Name != "" {
			return fmt.Errorf("%w: e-mail address %q: want a bare address such as abuse@example.net", ErrInvalid, e)
		}
	}
	if c.Webhook != "" {
		u, err := url.Parse(c.Webhook)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%w: webhook %q: want an http or https URL", ErrInvalid, c.Webhook)
		}
	}
	if len(c.Emails) == 0 && c.Webhook == "" {
		return fmt.Errorf("%w: neither an e-mail address nor a webhook: nothing to deliver to", ErrInvalid)
	}
	if !languagePattern.MatchString(c.Language) {
		return fmt.Errorf("%w: language %q: want a two-letter code (reports are written in %s; others get English)",
			ErrInvalid, c.Language, strings.Join(Languages, ", "))
	}
	_, err := ParseCadence(string(c.Cadence))
	return err
}

const selectContact = `SELECT coalesce(asn, 0), prefix, emails, coalesce(webhook, ''), language, cadence, created_at FROM contacts `

func scanContact(row pgx.CollectableRow) (Contact, error) {
	var (
		c      Contact
		prefix *netip.Prefix
	)
	if err := row.Scan(&c.ASN, &prefix, &c.Emails, &c.Webhook, &c.Language, &c.Cadence, &c.CreatedAt); err != nil {
		return Contact{}, err
	}
	if prefix != nil {
		c.Prefix = *prefix
	}
	c.CreatedAt = c.CreatedAt.UTC()
	return c, nil
}

// List returns every contact, ASN contacts first by number, then prefixes by address.
func List(ctx context.Context, q Querier) ([]Contact, error) {
	rows, err := q.Query(ctx, selectContact+`ORDER BY asn NULLS LAST, prefix`)
	if err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	cs, err := pgx.CollectRows(rows, scanContact)
	if err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	return cs, nil
}

// Lookup returns the contact that reports about addr, an address of AS asn (0: the AS that
// geo_prefixes gives it): the contact of the longest prefix holding addr, else the contact of
// asn. ok is false when there is none.
func Lookup(ctx context.Context, q Querier, addr netip.Addr, asn int) (c Contact, ok bool, err error) {
	rows, err := q.Query(ctx, selectContact+`
		WHERE prefix >>= $1 OR asn = coalesce(nullif($2::int, 0), (SELECT asn FROM geo_lookup($1)))
		ORDER BY prefix IS NULL, masklen(prefix) DESC LIMIT 1`, addr.Unmap(), asn)
	if err != nil {
		return Contact{}, false, fmt.Errorf("look up the contact of %s: %w", addr, err)
	}
	c, err = pgx.CollectExactlyOneRow(rows, scanContact)
	if errors.Is(err, pgx.ErrNoRows) {
		return Contact{}, false, nil
	}
	if err != nil {
		return Contact{}, false, fmt.Errorf("look up the contact of %s: %w", addr, err)
	}
	return c, true, nil
}

// Owns is the SQL condition that a row r (with columns r.ip and r.asn) is in c's space and in
// no more specific contact's, with c's space as the parameter $1. Each address thus belongs to
// one contact at most, and a report never shows another network's rows.
func Owns(c Contact) (cond string, arg any) {
	if c.Prefix.IsValid() {
		return `r.ip <<= $1::cidr AND NOT EXISTS (SELECT 1 FROM contacts o
			WHERE o.prefix IS NOT NULL AND masklen(o.prefix) > masklen($1::cidr) AND r.ip <<= o.prefix)`, c.Prefix
	}
	return `r.asn = $1::int AND NOT EXISTS (SELECT 1 FROM contacts o
		WHERE o.prefix IS NOT NULL AND r.ip <<= o.prefix)`, c.ASN
}
