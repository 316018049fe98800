package query

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sview-project/sview/internal/derived"
)

// An events query (docs/query-model.md, "Raw events") lists the raw rows behind the counts,
// newest first, as a logs frame: events picks the raw table, filters and exclude narrow it as
// for stats, limit bounds one page and before pages back in time.
const TypeEvents = "events"

// Kinds of raw events (the events field), one per raw table.
const (
	EventsIncidents = "incidents"
	EventsLogins    = "logins"
	EventsScans     = "scans"
	EventsFeeds     = "feeds"
	EventsCommands  = "commands"
)

// EventKinds lists the kinds of raw events.
var EventKinds = []string{EventsIncidents, EventsLogins, EventsScans, EventsFeeds, EventsCommands}

// Bounds of an events query's page.
const (
	DefaultEventsLimit = 100
	MaxEventsLimit     = 5000
)

// RawEvents are the fields of an events query; Query embeds them.
type RawEvents struct {
	Events string `json:"events,omitempty"`
	// Before keeps only rows strictly older than this time, RFC 3339 with nanoseconds in UTC
	// once normalised: the nextBefore of the previous page, exact to the microsecond.
	Before string `json:"before,omitempty"`
	// ProbeLabels is set from the caller's scope (Scope.Apply), never parsed: the probes whose
	// serial a row may show; nil shows every probe's.
	ProbeLabels *[]int64 `json:"-"`
}

// EventsTable is the raw table a kind of events reads ("" for an unknown kind).
func EventsTable(kind string) derived.Family {
	switch kind {
	case EventsIncidents:
		return derived.Incidents
	case EventsLogins:
		return derived.Passwords
	case EventsScans:
		return derived.Ports
	case EventsFeeds:
		return derived.FeedEvents
	case EventsCommands:
		return derived.Commands
	}
	return ""
}

// rawEvents reads the events fields; before is a time in RFC 3339, or epoch milliseconds as a
// number or numeric string (Grafana's ${__from} form).
func (d *decoder) rawEvents(q *Query) {
	d.override(&q.Events, "events", true)
	d.override(&q.Before, "before", false)
}

func (q Query) normalizeRawEvents() Query {
	before := strings.TrimSpace(q.Before)
	if t, ok := parseBefore(before); ok {
		before = t.Format(time.RFC3339Nano)
	}
	return Query{QueryType: q.QueryType, Limit: cmp.Or(q.Limit, DefaultEventsLimit), Filters: q.Filters, Exclude: q.Exclude,
		RawEvents: RawEvents{Events: q.Events, Before: before}}
}

// parseBefore reads RFC 3339 or epoch milliseconds, in UTC.
func parseBefore(s string) (time.Time, bool) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t.UTC(), err == nil
}

// BeforeTime is the before bound of a validated events query; ok is false when it has none.
func (q Query) BeforeTime() (time.Time, bool) {
	if q.Before == "" {
		return time.Time{}, false
	}
	return parseBefore(q.Before)
}

func (q Query) validateRawEvents() error {
	table := EventsTable(q.Events)
	if table == "" {
		if q.Events == "" {
			return missing("events", "an events query reads one of "+strings.Join(EventKinds, ", "))
		}
		return invalid("events", q.Events, EventKinds, "unknown kind of events")
	}
	if q.Limit < 1 || q.Limit > MaxEventsLimit {
		return invalid("limit", strconv.Itoa(q.Limit), nil, "must be between 1 and "+strconv.Itoa(MaxEventsLimit)+" (0 or absent for "+strconv.Itoa(DefaultEventsLimit)+")")
	}
	if _, ok := parseBefore(q.Before); q.Before != "" && !ok {
		return invalid("before", q.Before, nil, "a time in RFC 3339 (2026-05-01T12:00:00Z) or epoch milliseconds")
	}
	what := q.Events + " events (table " + string(table) + ")"
	if err := q.Filters.validate("filters", FiltersOf(table), what+" cannot be filtered by"); err != nil {
		return err
	}
	return q.Exclude.validate("exclude", FiltersOf(table), what+" cannot exclude by")
}

// withProbeLabels limits the probes an events query's rows name to probes (the caller's own);
// other query types are returned as they are.
func (q Query) withProbeLabels(probes []int64) Query {
	if q.QueryType == TypeEvents {
		own := slices.Clone(probes)
		q.ProbeLabels = &own
	}
	return q
}

// ports reads filters.port and exclude.port: numbers, or the labels of the port grouping such as
// "TCP/22", which a data link from a table's port column passes as they are. The protocol is
// no filter of the model, so "TCP/22" matches UDP/22 too.
func (d *decoder) ports(dst *[]int64, name string) {
	r, ok := d.raw(name)
	if !ok {
		return
	}
	v, err := decodeList(r, func(b json.RawMessage) (int64, error) {
		if s, err := decodeText(b); err == nil {
			if proto, port, found := strings.Cut(s, "/"); found && slices.Contains(protocols, strings.ToUpper(strings.TrimSpace(proto))) {
				b = json.RawMessage(strconv.Quote(port))
			}
		}
		return decodeInt(b)
	})
	if err != nil {
		d.fail(name, err)
		return
	}
	*dst = v
}

// protocols are the protocols of the ports table (protocol_t).
var protocols = []string{"TCP", "UDP", "OTHER"}
