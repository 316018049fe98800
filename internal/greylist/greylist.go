// Package greylist holds the greylist: the IP addresses that attacked many probes within a
// few days, with tags saying what they did. It builds the current list and its daily snapshots
// from the raw tables, reads them for the plugin and the public API, and reads and writes the
// Turris CSV format.
package greylist

import (
	"context"
	"errors"
	"net/netip"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
)

// Querier is what the read functions need: a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ErrInvalid marks arguments the caller can fix (options, filters, dates); test with errors.Is.
var ErrInvalid = errors.New("invalid greylist argument")

// Entry is one greylisted address.
type Entry struct {
	IP        netip.Addr
	Tags      []string // sorted
	Score     float64
	Probes    int
	Incidents int64     // 0 in snapshots, which do not keep it
	Country   string    // ISO code; "" when unknown
	ASN       int       // 0 when unknown
	FirstSeen time.Time // zero for imported entries
	LastSeen  time.Time // zero for imported entries
}

// Tags are the tags the builder gives, sorted. Imported lists may carry others (the legacy
// format has samba, torrent, dns, …); any tag matching tagPattern is kept.
var Tags = []string{"ftp", "haas", "http", "port_scan", "smtp", "ssh", "telnet"}

// TagOfTrap is the tag an address gets for hitting trap; it covers every value of
// sentinel.Traps (a test checks it).
func TagOfTrap(trap string) (tag string, ok bool) {
	switch trap {
	case "minipot_telnet":
		return "telnet", true
	case "minipot_ftp":
		return "ftp", true
	case "minipot_smtp":
		return "smtp", true
	case "minipot_http":
		return "http", true
	case "fwlogs":
		return "port_scan", true
	case "faillogs":
		return "ssh", true
	case "haas":
		return "haas", true
	}
	return "", false
}

// tagPattern is what a tag may look like in an imported file or a filter.
var tagPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
