// Package summary builds the network-wide summary of one calendar month (UTC), the successor
// of the original Sentinel View's monthly report: totals with their change against the month
// before, incidents per day, the top countries, autonomous systems, passwords, usernames and
// ports, and incidents by trap and action. Every number is a public stats query answered by
// the query service (internal/stats), so it equals what a dashboard shows for the same range.
// It renders as Markdown, one tidy CSV and PNG charts (gonum.org/v1/plot).
package summary

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/sentinel"
	"github.com/sview-project/sview/internal/stats"
)

// day is the bucket of every query: the planner then reads the daily rollups.
const day = 24 * time.Hour

// Source answers stats queries: *stats.Service.
type Source interface {
	Query(ctx context.Context, q query.Query, r period.Range, skipRead bool) (stats.Result, error)
}

// Summary is what one month's report holds.
type Summary struct {
	Month Month
	// DataFrom is when the data starts (the oldest daily bucket).
	DataFrom time.Time
	Totals   []Total
	PerDay   []Day
	Lists    []List
}

// Total is one headline number and the same number for the month before.
type Total struct {
	Key   string // incidents, attackers, login_attempts, scans
	Title string
	Value int64
	// Previous is nil when the data does not cover the whole month before: a part of a month
	// is no base for a change.
	Previous *int64
}

// Day is the number of incidents of one day.
type Day struct {
	Date      time.Time
	Incidents int64
}

// List is one ranked section.
type List struct {
	Spec ListSpec
	Rows []Row
	// Total is what a row's share is taken of: the month's total of the list's metric.
	Total int64
}

// Row is one ranked key.
type Row struct {
	Rank  int
	Key   string // TCP/22 for ports, trap/action for incident types
	Name  string // the AS name of an ASN; "" elsewhere
	Value int64
}

// ListSpec says how a ranked section is queried and shown.
type ListSpec struct {
	Section string // the CSV section
	Title   string
	Query   string   // the query model's JSON, over the month
	Metric  string   // the value field of the answer
	Total   string   // the Total.Key its shares are taken of
	Key     string   // column header of the key
	Unit    string   // column header of the value
	keys    []string // the answer's key fields, joined by "/"
	name    string   // the answer's field naming the key, if any
	chart   string   // the bar chart of the list, if any
}

// Lists are the ranked sections, in the order they are shown. Each holds the top 15, as the
// original's dashboard lists did.
var Lists = []ListSpec{
	{Section: "top_countries", Title: "Top countries", Query: `{"preset":"top_countries_by_incidents_list","limit":15}`,
		Metric: "incidents", Total: "incidents", Key: "Country", Unit: "Incidents", keys: []string{"country"}, chart: ChartTopCountries},
	{Section: "top_asns", Title: "Top autonomous systems", Query: `{"metric":"incidents","groupBy":"asn","format":"table","limit":15}`,
		Metric: "incidents", Total: "incidents", Key: "ASN", Unit: "Incidents", keys: []string{"asn"}, name: "asn_name"},
	{Section: "top_passwords", Title: "Top passwords", Query: `{"preset":"top_passwords_by_usages_list","limit":15}`,
		Metric: "usages", Total: "login_attempts", Key: "Password", Unit: "Login attempts", keys: []string{"password"}},
	{Section: "top_usernames", Title: "Top usernames", Query: `{"preset":"top_usernames_by_usages_list","limit":15}`,
		Metric: "usages", Total: "login_attempts", Key: "Username", Unit: "Login attempts", keys: []string{"username"}},
	{Section: "top_ports", Title: "Top scanned ports", Query: `{"preset":"top_ports_by_scans_list_long","limit":15}`,
		Metric: "scans", Total: "scans", Key: "Port", Unit: "Scans", keys: []string{"port"}, chart: ChartTopPorts},
	// Every trap × action pair there is.
	{Section: "incident_types", Title: "Incidents by trap and action",
		Query:  fmt.Sprintf(`{"preset":"top_incident_types_by_incidents_list","limit":%d}`, len(sentinel.Traps)*len(sentinel.Actions)),
		Metric: "incidents", Total: "incidents", Key: "Trap / action", Unit: "Incidents", keys: []string{"trap", "action"}},
}

// totals are the headline numbers: each the whole month of one metric.
var totals = []struct{ key, title, metric string }{
	{"incidents", "Incidents", "incidents"},
	{"attackers", "Distinct attackers", "attackers"},
	{"login_attempts", "Login attempts", "usages"},
	{"scans", "Port scans", "scans"},
}

// Build reads the summary of m. dataFrom is when the data starts (Availability.From): the
// month before m is compared only when the data covers all of it. Only public data is read:
// the queries pass through the public scope, which shows no probe.
func Build(ctx context.Context, src Source, m Month, dataFrom time.Time) (Summary, error) {
	s := Summary{Month: m, DataFrom: dataFrom}
	r := monthRange(m)
	byKey := map[string]int64{}
	for _, t := range totals {
		v, err := total(ctx, src, t.metric, r)
		if err != nil {
			return s, err
		}
		tot := Total{Key: t.key, Title: t.title, Value: v}
		if s.Compared() {
			prev, err := total(ctx, src, t.metric, monthRange(m.Prev()))
			if err != nil {
				return s, err
			}
			tot.Previous = &prev
		}
		byKey[t.key] = v
		s.Totals = append(s.Totals, tot)
	}
	var err error
	if s.PerDay, err = perDay(ctx, src, r); err != nil {
		return s, err
	}
	for _, spec := range Lists {
		rows, err := ranked(ctx, src, spec, r)
		if err != nil {
			return s, err
		}
		s.Lists = append(s.Lists, List{Spec: spec, Rows: rows, Total: byKey[spec.Total]})
	}
	return s, nil
}

// Partial reports whether the data starts inside the month (the first month of a network, or
// one that retention has cut).
func (s Summary) Partial() bool { return s.DataFrom.After(s.Month.Start()) }

// Compared reports whether the data covers the whole month before, so the totals are compared
// with it.
func (s Summary) Compared() bool { return !s.DataFrom.After(s.Month.Prev().Start()) }

func monthRange(m Month) period.Range {
	return period.Range{From: m.Start(), To: m.End(), Interval: day}
}

// ask parses a query of the model, narrows it to the public scope and answers it over r. An
// answer computed before the month was final (a dashboard asked for the same range while it
// was still running) is computed again: its source watermark is before r.To.
func ask(ctx context.Context, src Source, raw string, r period.Range) (data.Frames, error) {
	q, err := query.Parse([]byte(raw))
	if err == nil {
		q, err = query.Scope{Public: true}.Apply(q)
	}
	if err != nil {
		return nil, fmt.Errorf("summary query %s: %w", raw, err)
	}
	res, err := src.Query(ctx, q, r, false)
	if err == nil && res.Watermark.Before(r.To) {
		res, err = src.Query(ctx, q, r, true)
	}
	if err != nil {
		return nil, fmt.Errorf("summary query %s over %s: %w", raw, r.From.Format(monthLayout), err)
	}
	return res.Frames, nil
}

func total(ctx context.Context, src Source, metric string, r period.Range) (int64, error) {
	raw, _ := json.Marshal(map[string]any{"metric": metric, "format": query.FormatTable, "groupBy": []string{}})
	frames, err := ask(ctx, src, string(raw), r)
	if err != nil {
		return 0, err
	}
	f, err := field(frames, metric)
	if err != nil || f.Len() == 0 {
		return 0, err
	}
	return intAt(f, 0), nil
}

func perDay(ctx context.Context, src Source, r period.Range) ([]Day, error) {
	frames, err := ask(ctx, src, `{"preset":"all_incidents_graph"}`, r)
	if err != nil {
		return nil, err
	}
	ts, err := field(frames, "time")
	if err != nil {
		return nil, err
	}
	v, err := field(frames, "incidents")
	if err != nil {
		return nil, err
	}
	days := make([]Day, 0, ts.Len())
	for i := range ts.Len() {
		end, _ := ts.At(i).(time.Time) // points are labelled with their bucket's end
		days = append(days, Day{Date: end.UTC().Add(-day), Incidents: intAt(v, i)})
	}
	return days, nil
}

func ranked(ctx context.Context, src Source, spec ListSpec, r period.Range) ([]Row, error) {
	frames, err := ask(ctx, src, spec.Query, r)
	if err != nil {
		return nil, err
	}
	v, err := field(frames, spec.Metric)
	if err != nil {
		return nil, err
	}
	keys := make([]*data.Field, len(spec.keys))
	for i, k := range spec.keys {
		if keys[i], err = field(frames, k); err != nil {
			return nil, err
		}
	}
	var name *data.Field
	if spec.name != "" {
		if name, err = field(frames, spec.name); err != nil {
			return nil, err
		}
	}
	rows := make([]Row, 0, v.Len())
	for i := range v.Len() {
		parts := make([]string, len(keys))
		for j, k := range keys {
			parts[j] = fmt.Sprint(k.At(i))
		}
		row := Row{Rank: i + 1, Key: strings.Join(parts, "/"), Value: intAt(v, i)}
		if name != nil {
			row.Name = fmt.Sprint(name.At(i))
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// field finds a field by name in the answer's single frame.
func field(frames data.Frames, name string) (*data.Field, error) {
	if len(frames) != 1 {
		return nil, fmt.Errorf("summary: want one frame, got %d", len(frames))
	}
	f, _ := frames[0].FieldByName(name)
	if f == nil {
		return nil, fmt.Errorf("summary: frame %q has no field %q", frames[0].Name, name)
	}
	return f, nil
}

// intAt reads a count; the engine's value fields are int64.
func intAt(f *data.Field, i int) int64 {
	switch v := f.At(i).(type) {
	case int64:
		return v
	case *int64:
		if v != nil {
			return *v
		}
	}
	return 0
}
