package answer

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/engine"
	"github.com/sview-project/sview/internal/geo"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
)

// rawEvent is one raw row of an events query. Probe and serial are set only for a probe the
// caller may see (query.RawEvents.ProbeLabels); every other column may be NULL in the tables
// the original schema extended (passwords and ports kept no attacker).
type rawEvent struct {
	time    time.Time
	ip      *string
	country *string
	asn     *int64
	probe   *int64
	serial  *string
	count   int64
	// the table's own columns (eventColumns)
	kind [5]*string
}

// eventColumns are each raw table's own columns, as text, in rawEvent.kind's order.
var eventColumns = map[string]string{
	query.EventsIncidents: "trap::text, action::text, NULL, NULL, NULL",
	query.EventsLogins:    "trap::text, username, password, NULL, NULL",
	query.EventsScans:     "protocol::text, port::text, NULL, NULL, NULL",
	query.EventsFeeds:     "taxonomy, type, identifier, provider, feed",
	query.EventsCommands:  "command, NULL, NULL, NULL, NULL",
}

// logsFrames answers an events query: the newest rows of its table within the dashboard range
// and before its before bound, at most its limit, as a Grafana logs frame. The frame's custom
// meta says whether older rows remain (more) and the before of the next page (nextBefore).
//
// A page never splits the rows of one instant: when the row after the page shares the time of
// its last row, the rows of that instant are left for the next page, or, when the whole page is
// that instant, it grows to hold all of them (up to MaxEventsLimit) and says more only if older
// rows exist. With before strictly older, no row is returned twice and none is skipped across
// pages.
func (s *Service) logsFrames(ctx context.Context, q query.Query, r period.Range) (data.Frames, error) {
	until := r.To
	if b, ok := q.BeforeTime(); ok && b.Before(until) {
		until = b
	}
	rows, err := s.rawEvents(ctx, q, r.From, until, q.Limit+1)
	if err != nil {
		return nil, err
	}
	more := len(rows) > q.Limit
	var notices []data.Notice
	if more {
		cut := rows[q.Limit].time
		rows = rows[:q.Limit]
		switch first := slices.IndexFunc(rows, func(e rawEvent) bool { return e.time.Equal(cut) }); {
		case first > 0:
			rows = rows[:first]
		case first == 0:
			// Every row of the page is of one instant: read the whole instant.
			if rows, err = s.rawEvents(ctx, q, cut, cut.Add(time.Microsecond), query.MaxEventsLimit+1); err != nil {
				return nil, err
			}
			if len(rows) > query.MaxEventsLimit {
				rows = rows[:query.MaxEventsLimit]
				notices = append(notices, data.Notice{Severity: data.NoticeSeverityWarning,
					Text: fmt.Sprintf("More than %d events share the time %s; only %d are shown.", query.MaxEventsLimit, cut.Format(time.RFC3339Nano), query.MaxEventsLimit)})
			}
			older, err := s.rawEvents(ctx, q, r.From, cut, 1)
			if err != nil {
				return nil, err
			}
			more = len(older) > 0
		}
	}
	f, err := s.logsFrame(ctx, q, rows)
	if err != nil {
		return nil, err
	}
	custom := map[string]any{"more": more}
	if more {
		next := rows[len(rows)-1].time.UTC().Format(time.RFC3339Nano)
		custom["nextBefore"] = next
		notices = append(notices, data.Notice{Severity: data.NoticeSeverityInfo,
			Text: fmt.Sprintf("Older events remain: query again with before %q.", next)})
	}
	f.Meta = &data.FrameMeta{Type: data.FrameTypeLogLines, TypeVersion: data.FrameTypeVersion{0, 0},
		PreferredVisualization: data.VisTypeLogs, Custom: custom, Notices: notices}
	return data.Frames{f}, nil
}

// rawEvents reads at most limit rows of q's table in [from, until), newest first. Raw tables
// are indexed by time only: the read is bounded by time and LIMIT, and the probe serials are
// joined for the probes the caller may see only.
func (s *Service) rawEvents(ctx context.Context, q query.Query, from, until time.Time, limit int) ([]rawEvent, error) {
	where, args := engine.Where(q, from, until)
	table := query.EventsTable(q.Events)
	probe := "false" // feed events name no probe
	if derived.RawOf(table).Covers("identity_id") {
		probe = "p.id = r.identity_id"
		if q.ProbeLabels != nil {
			args = append(args, *q.ProbeLabels)
			probe += " AND p.id = ANY($" + strconv.Itoa(len(args)) + "::bigint[])"
		}
	}
	args = append(args, limit)
	sql := `SELECT r.time, host(r.ip), r.country, r.asn::bigint, p.id, p.sn, coalesce(r.raw_count, 1), ` + eventColumns[q.Events] + `
		FROM ` + string(table) + ` r LEFT JOIN identity p ON ` + probe + `
		WHERE ` + where + ` ORDER BY r.time DESC LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.DB.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s events: %w", q.Events, err)
	}
	defer rows.Close()
	var out []rawEvent
	for rows.Next() {
		var e rawEvent
		if err := rows.Scan(&e.time, &e.ip, &e.country, &e.asn, &e.probe, &e.serial, &e.count,
			&e.kind[0], &e.kind[1], &e.kind[2], &e.kind[3], &e.kind[4]); err != nil {
			return nil, fmt.Errorf("read %s events: %w", q.Events, err)
		}
		e.time = e.time.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s events: %w", q.Events, err)
	}
	return out, nil
}

// logsFrame is the rows as the fields of the logs data plane contract: timestamp, body and
// labels (a JSON object per row).
func (s *Service) logsFrame(ctx context.Context, q query.Query, rows []rawEvent) (*data.Frame, error) {
	var asns []int64
	for _, e := range rows {
		if e.asn != nil {
			asns = append(asns, *e.asn)
		}
	}
	names, err := geo.ASNames(ctx, s.DB, slices.Compact(slices.Sorted(slices.Values(asns))))
	if err != nil {
		return nil, err
	}
	times, bodies, labels := make([]time.Time, len(rows)), make([]string, len(rows)), make([]json.RawMessage, len(rows))
	for i, e := range rows {
		l := e.labels(q.Events, names)
		b, err := json.Marshal(l)
		if err != nil {
			return nil, fmt.Errorf("labels of %s events: %w", q.Events, err)
		}
		times[i], bodies[i], labels[i] = e.time, e.body(q.Events, l), b
	}
	return data.NewFrame(q.Events, data.NewField("timestamp", nil, times), data.NewField("body", nil, bodies),
		data.NewField("labels", nil, labels)), nil
}

// labels are the row's columns by name, those it has only; values are text, as Grafana's logs
// labels are.
func (e rawEvent) labels(kind string, asNames map[int64]string) map[string]string {
	l := map[string]string{}
	set := func(name string, v *string) {
		if v != nil {
			l[name] = *v
		}
	}
	set("ip", e.ip)
	set("country", e.country)
	if e.asn != nil {
		l["asn"] = strconv.FormatInt(*e.asn, 10)
		if n := asNames[*e.asn]; n != "" {
			l["asn_name"] = n
		}
	}
	if e.probe != nil {
		l["probe_id"] = strconv.FormatInt(*e.probe, 10)
	}
	set("probe", e.serial)
	switch kind {
	case query.EventsIncidents:
		set("trap", e.kind[0])
		set("action", e.kind[1])
	case query.EventsLogins:
		set("trap", e.kind[0])
		set("username", e.kind[1])
		set("password", e.kind[2])
	case query.EventsScans:
		if e.kind[0] != nil && e.kind[1] != nil {
			l["port"] = *e.kind[0] + "/" + *e.kind[1]
		}
	case query.EventsFeeds:
		set("taxonomy", e.kind[0])
		set("type", e.kind[1])
		set("identifier", e.kind[2])
		set("provider", e.kind[3])
		set("feed", e.kind[4])
	case query.EventsCommands:
		set("command", e.kind[0])
	}
	if e.count > 1 {
		l["count"] = strconv.FormatInt(e.count, 10)
	}
	return l
}

// body is the row as one line, such as "203.0.113.7 (CN, AS4134 CHINANET) minipot_telnet login
// on probe 0000000A12345678", "root / 123456 from 203.0.113.7 (…) on minipot_telnet, probe …",
// "TCP/22 scanned from 203.0.113.7 (…)", "203.0.113.7 (…) information-gathering/scanner (ssh)
// reported by Shadowserver Scan-SSH" or "\"uname -a\" typed from 203.0.113.7 (…) on probe …";
// l are its labels.
func (e rawEvent) body(kind string, l map[string]string) string {
	source := cmp.Or(l["ip"], "an unknown address")
	var about []string
	if c := l["country"]; c != "" {
		about = append(about, c)
	}
	if a := l["asn"]; a != "" {
		about = append(about, strings.TrimSpace("AS"+a+" "+l["asn_name"]))
	}
	if len(about) > 0 {
		source += " (" + strings.Join(about, ", ") + ")"
	}
	var b string
	switch kind {
	case query.EventsIncidents:
		b = source + " " + l["trap"] + " " + l["action"]
	case query.EventsLogins:
		b = l["username"] + " / " + l["password"] + " from " + source
		if t := l["trap"]; t != "" {
			b += " on " + t
		}
	case query.EventsScans:
		b = cmp.Or(l["port"], "a port") + " scanned from " + source
	case query.EventsFeeds:
		b = source + " " + l["taxonomy"] + "/" + l["type"]
		if id := l["identifier"]; id != "" {
			b += " (" + id + ")"
		}
		b += " reported by " + strings.TrimSpace(l["provider"]+" "+l["feed"])
	case query.EventsCommands:
		b = strconv.Quote(l["command"]) + " typed from " + source
	}
	switch p := l["probe"]; {
	case p == "":
	case kind == query.EventsLogins && l["trap"] != "":
		b += ", probe " + p
	default:
		b += " on probe " + p
	}
	if n := l["count"]; n != "" {
		b += " (" + n + " times)"
	}
	return b
}
