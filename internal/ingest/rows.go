package ingest

import (
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sview-project/sview/internal/geo"
)

// Incident is one row of the incidents table. Country "" and ASN 0 are written as NULL.
type Incident struct {
	Time     time.Time
	Count    int64 // raw_count; 0 is written as 1
	Identity int64
	Trap     string
	Action   string
	IP       netip.Addr
	Country  string
	ASN      int32
}

// Password is one row of the passwords table: a login attempt's credentials with the probe,
// trap and attacker that saw them. Identity 0, Trap "" and an invalid IP are written as NULL.
type Password struct {
	Time     time.Time
	Count    int64
	Username string
	Password string
	Identity int64
	Trap     string
	IP       netip.Addr
	Country  string
	ASN      int32
}

// Port is one row of the ports table: a packet to a local port seen by the firewall log.
type Port struct {
	Time     time.Time
	Count    int64
	Port     int32
	Protocol string
	Identity int64
	IP       netip.Addr
	Country  string
	ASN      int32
}

// FeedEvent is one row of the feed_events table: an event another system reported (IDEA,
// IntelMQ), classified by the IntelMQ taxonomy. Provider and Identifier "" are written as NULL.
type FeedEvent struct {
	Time       time.Time
	Count      int64
	Provider   string
	Feed       string
	Taxonomy   string
	Type       string
	Identifier string
	IP         netip.Addr
	Country    string
	ASN        int32
}

// Command is one row of the commands table: a command an attacker typed in a honeypot
// session. Identity 0 and an invalid IP are written as NULL.
type Command struct {
	Time     time.Time
	Count    int64
	Command  string
	Identity int64
	IP       netip.Addr
	Country  string
	ASN      int32
}

// Batch holds rows bound for the raw tables, written together in one transaction.
type Batch struct {
	Incidents  []Incident
	Passwords  []Password
	Ports      []Port
	FeedEvents []FeedEvent
	Commands   []Command
}

// Len is the number of rows in the batch.
func (b *Batch) Len() int {
	return len(b.Incidents) + len(b.Passwords) + len(b.Ports) + len(b.FeedEvents) + len(b.Commands)
}

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() {
	b.Incidents, b.Passwords, b.Ports = b.Incidents[:0], b.Passwords[:0], b.Ports[:0]
	b.FeedEvents, b.Commands = b.FeedEvents[:0], b.Commands[:0]
}

// Counts is how many rows went to each raw table.
type Counts struct {
	Incidents, Passwords, Ports, FeedEvents, Commands int64
}

// Add sums two counts.
func (c Counts) Add(o Counts) Counts {
	return Counts{c.Incidents + o.Incidents, c.Passwords + o.Passwords, c.Ports + o.Ports,
		c.FeedEvents + o.FeedEvents, c.Commands + o.Commands}
}

// Total is the number of rows over all tables.
func (c Counts) Total() int64 {
	return c.Incidents + c.Passwords + c.Ports + c.FeedEvents + c.Commands
}

// Enrich fills country and ASN of rows that have neither from the table.
func (b *Batch) Enrich(t *geo.Table) {
	if t.Len() == 0 {
		return
	}
	locate := func(country *string, asn *int32, ip netip.Addr) {
		if *country == "" && *asn == 0 && ip.IsValid() {
			info, _ := t.Lookup(ip)
			*country, *asn = info.Country, info.ASN
		}
	}
	for i := range b.Incidents {
		r := &b.Incidents[i]
		locate(&r.Country, &r.ASN, r.IP)
	}
	for i := range b.Passwords {
		r := &b.Passwords[i]
		locate(&r.Country, &r.ASN, r.IP)
	}
	for i := range b.Ports {
		r := &b.Ports[i]
		locate(&r.Country, &r.ASN, r.IP)
	}
	for i := range b.FeedEvents {
		r := &b.FeedEvents[i]
		locate(&r.Country, &r.ASN, r.IP)
	}
	for i := range b.Commands {
		r := &b.Commands[i]
		locate(&r.Country, &r.ASN, r.IP)
	}
}

// MaxCredentialBytes bounds usernames and passwords: attackers send kilobytes of garbage, and a
// btree index entry must stay well under PostgreSQL's limit of about 2.7 kB.
const MaxCredentialBytes = 256

// CleanText makes an attacker-supplied string storable: invalid UTF-8 and NUL bytes (which
// PostgreSQL text cannot hold) become U+FFFD, and the result is cut to MaxCredentialBytes at a
// character boundary.
func CleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	if len(s) > MaxCredentialBytes {
		cut := MaxCredentialBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
