// Package query is the query model of sview (DESIGN §4): the JSON the Grafana plugin,
// dashboards, alert rules and the HTTP API send. Parse decodes it leniently (Grafana
// interpolates variables into strings), expands a preset, normalises and validates it, so the
// engine only ever sees a well-formed query.
package query

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
)

// Query types.
const (
	TypeStats    = "stats"
	TypeGreylist = "greylist"
	TypeLeak     = "leak"
	TypeStatus   = "status"
)

// Formats of a stats query.
const (
	FormatTimeSeries = "timeseries"
	FormatTable      = "table"
	FormatMap        = "map"
)

// Default top-N limits when a query groups and gives no limit.
const (
	DefaultTimeSeriesLimit = 7
	DefaultTableLimit      = 15
	// MaxLimit caps any limit; the engine's row guard applies on top of it.
	MaxLimit = 10000
	// MaxGroupBy is how many keys one stats query may group by.
	MaxGroupBy = 3
)

// Closed lists of the stats query fields.
var (
	QueryTypes = []string{TypeStats, TypeGreylist, TypeLeak, TypeStatus, TypeTrend, TypeAnnotations, TypeProbes, TypeEvents, TypeLive}
	Metrics    = []string{"incidents", "attackers", "usages", "scans", "events", "commands"}
	GroupBys   = []string{"", "country", "asn", "trap", "action", "ip", "probe", "password", "username", "combination", "port",
		"taxonomy", "type", "identifier", "feed", "provider", "command"}
	Formats = []string{FormatTimeSeries, FormatTable, FormatMap}
)

// Query is a normalised, validated query. Its JSON form (json.Marshal) is canonical: Parse of
// it gives the same query back.
type Query struct {
	QueryType string `json:"queryType"`
	// stats
	Preset  string   `json:"preset,omitempty"`
	Metric  string   `json:"metric,omitempty"`
	GroupBy Grouping `json:"groupBy"` // always written: [] may override a preset
	Format  string   `json:"format,omitempty"`
	Period  string   `json:"period,omitempty"`
	Limit   int      `json:"limit,omitempty"` // top-N for stats and greylist; 0 = all
	Filters Filters  `json:"filters,omitzero"`
	// Exclude leaves out the rows matching any of its values (same keys as Filters, tag
	// excepted); a row whose column is NULL is never excluded.
	Exclude Filters `json:"exclude,omitzero"`
	// greylist
	MinScore float64 `json:"minScore,omitempty"`
	// trend (trend.go)
	Direction string `json:"direction,omitempty"`
	Measure   string `json:"measure,omitempty"`
	// leak: exactly one of them. A plain password is not a field: Parse refuses it, so none
	// reaches a panel's JSON, Explore's URL or a request log through the plugin.
	SHA1   string `json:"sha1,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	// annotations: which (Annotations)
	Annotation string `json:"annotation,omitempty"`
	// events (events_query.go)
	RawEvents
	// Empty: the ad-hoc filters and the query's own left a key no value in common, so the
	// query matches no row (adhoc.go); Scope.Apply turns it into a restriction to nothing.
	Empty bool `json:"empty,omitempty"`
	// AdhocIgnored names the ad-hoc filters this query cannot apply (a key its table lacks),
	// for a notice beside the answer; they do not change the answer, nor the cache key.
	AdhocIgnored []string `json:"-"`
	// Restrict is set from the caller's scope (Scope.Apply), never parsed.
	Restrict *Restriction `json:"restrict,omitempty"`
}

// Grouping is the keys a stats query groups by, in the order given (series and rows are
// labelled by all of them); empty means no grouping. Its JSON is always a list.
type Grouping []string

// MarshalJSON writes the keys as a list, [] when there are none: "no grouping" must stay
// explicit, as it overrides a preset's grouping.
func (g Grouping) MarshalJSON() ([]byte, error) {
	if g == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]string(g))
}

// Has reports whether key is one of the keys.
func (g Grouping) Has(key string) bool { return slices.Contains(g, key) }

// Is reports whether the grouping is exactly these keys, in this order.
func (g Grouping) Is(keys ...string) bool { return slices.Equal(g, keys) }

// String is the keys joined by commas, the form Grafana interpolates variables into.
func (g Grouping) String() string { return strings.Join(g, ",") }

// Filters restrict a stats or greylist query. Lists are sorted and free of duplicates; within a
// list values are alternatives (OR), across filters all must hold (AND).
type Filters struct {
	Probe   []int64  `json:"probe,omitempty"` // identity ids
	ASN     []int64  `json:"asn,omitempty"`
	Country []string `json:"country,omitempty"` // ISO 3166 alpha-2, upper case
	Trap    []string `json:"trap,omitempty"`
	Action  []string `json:"action,omitempty"`
	IP      []string `json:"ip,omitempty"` // addresses and CIDR prefixes, canonical (see Normalize)
	// Passwords and usernames are compared exactly, case and spaces kept.
	Password []string `json:"password,omitempty"`
	Username []string `json:"username,omitempty"`
	Port     []int64  `json:"port,omitempty"`
	// The feed events' classification (IntelMQ taxonomy, type, identifier) and source, and
	// the commands typed in honeypot sessions (labels.go).
	Taxonomy   []string `json:"taxonomy,omitempty"`
	Type       []string `json:"type,omitempty"`
	Identifier []string `json:"identifier,omitempty"`
	Feed       []string `json:"feed,omitempty"`
	Provider   []string `json:"provider,omitempty"`
	Command    []string `json:"command,omitempty"`
	Tag        []string `json:"tag,omitempty"` // greylist only
}

// GreylistFilters are the filters a greylist query takes (it has no exclusions).
var GreylistFilters = []string{"tag", "country", "asn", "ip"}

// Table is the raw table family a stats metric reads: incidents and attackers come from
// incidents, usages from passwords, scans from ports, events from feed_events, commands from
// commands.
func Table(metric string) derived.Family {
	switch metric {
	case "usages":
		return derived.Passwords
	case "scans":
		return derived.Ports
	case "events":
		return derived.FeedEvents
	case "commands":
		return derived.Commands
	}
	return derived.Incidents
}

// GroupBysOf lists the groupings a table supports. combination is the table's natural pair:
// trap and action (the incident type) for incidents, username and password for passwords.
// port on ports is the pair protocol and port, shown as TCP/22.
func GroupBysOf(table derived.Family) []string {
	switch table {
	case "passwords":
		return []string{"", "country", "asn", "trap", "ip", "probe", "password", "username", "combination"}
	case "ports":
		return []string{"", "country", "asn", "ip", "probe", "port"}
	case derived.FeedEvents:
		return []string{"", "country", "asn", "ip", "taxonomy", "type", "identifier", "feed", "provider"}
	case derived.Commands:
		return []string{"", "country", "asn", "ip", "probe", "command"}
	}
	return []string{"", "country", "asn", "trap", "action", "ip", "probe", "combination"}
}

// combined lists the groupings combination stands for on a table.
func combined(table derived.Family) []string {
	if table == derived.Passwords {
		return []string{"username", "password"}
	}
	return []string{"trap", "action"}
}

// FiltersOf lists the filters a table supports (the JSON names under filters).
func FiltersOf(table derived.Family) []string {
	switch table {
	case "passwords":
		return []string{"probe", "asn", "country", "trap", "ip", "password", "username"}
	case "ports":
		return []string{"probe", "asn", "country", "ip", "port"}
	case derived.FeedEvents:
		return []string{"asn", "country", "ip", "taxonomy", "type", "identifier", "feed", "provider"}
	case derived.Commands:
		return []string{"probe", "asn", "country", "ip", "command"}
	}
	return []string{"probe", "asn", "country", "trap", "action", "ip"}
}

// Table is the raw table family this stats or events query reads.
func (q Query) Table() derived.Family {
	if q.QueryType == TypeEvents {
		return EventsTable(q.Events)
	}
	return Table(q.Metric)
}

// CacheKey identifies the answer to q: a hash of the canonical query (without the preset
// name, so a preset and its spelled-out form share an answer) and of either the period or, for a
// dashboard-range query, the range aligned to whole intervals.
func (q Query) CacheKey(r period.Range) string {
	k := q
	k.Preset = ""
	b, _ := json.Marshal(k) // a Query always marshals: it holds only strings and numbers
	h := sha256.New()
	h.Write(b)
	if q.QueryType == TypeStats && q.Period == "" {
		a := r.Aligned()
		h.Write([]byte{0})
		h.Write([]byte(a.From.UTC().Format(time.RFC3339)))
		h.Write([]byte(a.To.UTC().Format(time.RFC3339)))
		h.Write([]byte(a.Interval.String()))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
