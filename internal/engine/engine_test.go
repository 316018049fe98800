package engine

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/catalog"
	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/testenv"
	"github.com/sview-project/sview/internal/twin"
)

var update = flag.Bool("update", false, "rewrite the golden frames in testdata/")

func setup(t *testing.T) (*Engine, []fact) {
	t.Helper()
	pool := testenv.Pool(t)
	facts := seed(t, pool, 1)
	return New(pool, Options{Now: func() time.Time { return testNow }}), facts
}

// sweep narrows the formats and periods a test tries for a metric. The families that have
// nothing but rollups (feed events, commands: no totals, twins or sightings) take the engine's
// one generic path, so they get the first format, and the first and last period (the raw and the
// daily source), instead of every combination, which would only repeat it.
func sweep(metric string, formats, periods []string) ([]string, []string) {
	f := query.Table(metric)
	for _, t := range derived.All {
		if t.Family == f && t.Kind != derived.Raw && t.Kind != derived.Rollup {
			return formats, periods
		}
	}
	if len(periods) > 1 {
		periods = []string{periods[0], periods[len(periods)-1]}
	}
	return formats[:1], periods
}

func mustParse(t *testing.T, s string) query.Query {
	t.Helper()
	q, err := query.Parse([]byte(s))
	require.NoError(t, err, s)
	return q
}

// check runs q and compares the frames with the reference computed from the raw rows; it
// returns what the answer was read from (Info.Source).
func check(t *testing.T, e *Engine, facts []fact, q query.Query, r period.Range) (source string) {
	t.Helper()
	frames, info, err := e.Answer(context.Background(), q, r)
	require.NoError(t, err)
	source = info.Source
	var w period.Window
	if p, ok := period.Lookup(q.Period); ok {
		w = p.Window(testNow, q.Format == query.FormatTimeSeries)
		tw, isTwin := twinOf(q, p.Source)
		switch {
		case strings.HasPrefix(info.Source, twin.Sightings.Table(p.Source)):
			require.True(t, sightingsApply(q, w), "sightings read for %s", info.Source)
		case isTwin:
			require.True(t, strings.HasPrefix(info.Source, tw.Name(p.Source)), "source %s", info.Source)
		default:
			require.Equal(t, sourceTable(q, p.Source), info.Source)
		}
		if p.Source != period.Raw {
			require.Equal(t, testNow.Truncate(p.Source.Step()), info.Watermark)
		}
	} else {
		w, err = e.Window(context.Background(), q, r)
		require.NoError(t, err)
	}
	ref := computeReference(facts, q, w)
	labels := labelNames(q.Table(), q.GroupBy)
	ranked := ref.ranked()

	switch q.Format {
	case query.FormatTimeSeries:
		buckets := w.Buckets()
		if len(q.GroupBy) == 0 {
			require.Len(t, frames, 1)
			requireSeries(t, frames[0], w, buckets, ref.buckets[""], nil)
			return
		}
		want := min(q.Limit, len(ranked))
		if want == 0 {
			require.Len(t, frames, 1)
			require.Zero(t, frames[0].Rows(), "typed empty frame")
			require.Len(t, frames[0].Fields, 2)
			return
		}
		require.Len(t, frames, want)
		var got []int64
		for _, f := range frames {
			var parts []string
			for _, l := range labels {
				parts = append(parts, seriesKey(t, f.Fields[1].Labels, l))
			}
			key := joinKey(parts)
			total, ok := ref.totals[key]
			require.True(t, ok, "series %v is not a key of the reference", parts)
			got = append(got, total)
			requireSeries(t, f, w, buckets, ref.buckets[key], f.Fields[1].Labels)
		}
		require.Equal(t, ranked[:want], got, "the top %d keys, largest first", want)
	default:
		require.Len(t, frames, 1)
		f := frames[0]
		if q.Format == query.FormatMap {
			require.Equal(t, "country", f.Fields[0].Name)
		}
		if len(q.GroupBy) == 0 {
			require.Len(t, f.Fields, 1)
			require.Equal(t, 1, f.Rows())
			require.Equal(t, ref.totals[""], f.Fields[0].At(0))
			return
		}
		require.Equal(t, tableColumns(labels), fieldNames(f), "one column per key, asn_name after asn, probe_id after probe, the value last")
		value := f.Fields[len(f.Fields)-1]
		want := len(ranked)
		if q.Limit > 0 {
			want = min(q.Limit, want)
		}
		require.Equal(t, want, f.Rows())
		var got []int64
		for row := range f.Rows() {
			var parts []string
			for _, l := range labels {
				parts = append(parts, tableKey(t, f, row, l))
			}
			v := value.At(row).(int64)
			require.Equal(t, ref.totals[joinKey(parts)], v, "row %v", parts)
			got = append(got, v)
		}
		require.Equal(t, ranked[:want], got)
	}
	return source
}

// seriesKey is the text of the fact dimension l in a series' labels, the probe's and the
// ASN's names checked on the way.
func seriesKey(t *testing.T, labels data.Labels, l string) string {
	t.Helper()
	v, ok := labels[l]
	require.True(t, ok, "label %s", l)
	switch l {
	case "probe":
		id := labels["probe_id"]
		require.Equal(t, serial(id), v, "a probe is labelled by its serial, its id as probe_id")
		return id
	case "asn":
		name, ok := labels["asn_name"]
		require.True(t, ok, "asn_name beside asn")
		require.Equal(t, asNames[v], name, "AS name of %s", v)
	}
	return v
}

// tableColumns are the columns a table grouped by the fact dimensions labels has.
func tableColumns(labels []string) []string {
	var out []string
	for _, l := range labels {
		switch out = append(out, l); l {
		case "asn":
			out = append(out, "asn_name")
		case "probe":
			out = append(out, "probe_id")
		}
	}
	return out
}

func fieldNames(f *data.Frame) []string {
	var out []string
	for _, fd := range f.Fields[:len(f.Fields)-1] {
		out = append(out, fd.Name)
	}
	return out
}

// tableKey is the text of the fact dimension l in a table row: asn and probe_id are numbers,
// every other key is text; the names beside asn and probe are checked on the way.
func tableKey(t *testing.T, f *data.Frame, row int, l string) string {
	t.Helper()
	field := func(name string) any {
		fd, i := f.FieldByName(name)
		require.GreaterOrEqual(t, i, 0, "column %s", name)
		return fd.At(row)
	}
	switch l {
	case "asn":
		asn, ok := field("asn").(int64)
		require.True(t, ok, "asn is a number in a table")
		v := strconv.FormatInt(asn, 10)
		require.Equal(t, asNames[v], field("asn_name"), "AS name of %s", v)
		return v
	case "probe":
		id, ok := field("probe_id").(int64)
		require.True(t, ok, "probe_id is a number in a table")
		v := strconv.FormatInt(id, 10)
		require.Equal(t, serial(v), field("probe"), "a probe is shown by its serial")
		return v
	}
	v, ok := field(l).(string)
	require.True(t, ok, "%s is text in a table", l)
	return v
}

func requireSeries(t *testing.T, f *data.Frame, w period.Window, buckets []time.Time, want []int64, labels data.Labels) {
	t.Helper()
	require.Len(t, f.Fields, 2)
	require.Equal(t, len(buckets), f.Rows())
	if want == nil {
		want = make([]int64, len(buckets))
	}
	for i, b := range buckets {
		require.Equal(t, b.Add(w.Bucket), f.Fields[0].At(i), "points are labelled with the bucket end")
		require.Equal(t, want[i], f.Fields[1].At(i), "bucket %s of %v", b, labels)
	}
}

// TestPresetsMatchRaw: every preset at every period, read from its rollup, equals the same
// answer computed from the raw rows.
func TestPresetsMatchRaw(t *testing.T) {
	e, facts := setup(t)
	required := map[string]string{
		"probe":    `"filters":{"probe":[2,3]}`,
		"ip":       `"filters":{"ip":"198.51.0.10"}`,
		"password": `"filters":{"password":"123456"}`,
	}
	sources := map[string]string{}
	for _, p := range catalog.All {
		for _, per := range period.Names() {
			t.Run(p.Name+"/"+per, func(t *testing.T) {
				extra := ""
				if p.Requires != "" {
					extra = "," + required[p.Requires]
				}
				q := mustParse(t, fmt.Sprintf(`{"preset":%q,"period":%q%s}`, p.Name, per, extra))
				sources[p.Name+" "+per] = check(t, e, facts, q, period.Range{})
			})
		}
	}
	require.Contains(t, sources["top_ports_by_scans_list_long 1w"], "ports_hourly_running", "the week's hours are listed: the running totals answer")
}

// TestFilters: every filter on every metric whose table has the column, in every format.
func TestFilters(t *testing.T) {
	e, facts := setup(t)
	values := map[string]string{
		"probe": `[1,"4"]`, "asn": `["64500",64503]`, "country": `["cz","CN"]`, "trap": `"minipot_telnet"`,
		"action": `["login","connect"]`, "ip": `"198.51.0.0/22"`, "password": `"admin"`, "username": `"root"`, "port": `["22",443]`,
		"taxonomy": `["Information-Gathering","vulnerable"]`, "type": `"scanner"`, "identifier": `["mirai","ssh"]`,
		"feed": `"Drone"`, "provider": `["Shadowserver"]`, "command": `["uname -a","cd /tmp"]`,
	}
	for _, metric := range query.Metrics {
		table := query.Table(metric)
		formats, periods := sweep(metric, query.Formats, []string{"1h", "1w", "1y"})
		for _, filter := range query.FiltersOf(table) {
			for _, format := range formats {
				groupBy := "country"
				if format == query.FormatTimeSeries {
					groupBy = query.GroupBysOf(table)[len(query.GroupBysOf(table))-1]
				}
				for _, per := range periods {
					in := fmt.Sprintf(`{"metric":%q,"format":%q,"groupBy":%q,"period":%q,"filters":{%q:%s}}`, metric, format, groupBy, per, filter, values[filter])
					t.Run(fmt.Sprintf("%s/%s/%s/%s", metric, filter, format, per), func(t *testing.T) {
						check(t, e, facts, mustParse(t, in), period.Range{})
					})
				}
			}
		}
	}
}

// TestScopeRestriction: a scoped caller's rows (probes, ASNs, prefixes, any of them; none at
// all) in every metric and format, where twins, totals and sightings would otherwise answer.
func TestScopeRestriction(t *testing.T) {
	e, facts := setup(t)
	scopes := map[string]query.Scope{
		"probes":  {Probes: []int64{1, 4}},
		"asn":     {ASNs: []int64{64500}},
		"prefix":  {Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.0.0/22")}},
		"mixed":   {Probes: []int64{2}, ASNs: []int64{64503}, Prefixes: []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}},
		"nothing": {},
	}
	for name, s := range scopes {
		for _, metric := range query.Metrics {
			formats, periods := sweep(metric, query.Formats, []string{"1h", "1w", "1y"})
			for _, format := range formats {
				for _, per := range periods {
					in := fmt.Sprintf(`{"metric":%q,"format":%q,"groupBy":"country","period":%q}`, metric, format, per)
					t.Run(fmt.Sprintf("%s/%s/%s/%s", name, metric, format, per), func(t *testing.T) {
						q, err := s.Apply(mustParse(t, in))
						require.NoError(t, err)
						require.NotNil(t, q.Restrict)
						check(t, e, facts, q, period.Range{})
					})
				}
			}
		}
	}
}

// TestGroupings: every grouping of every metric, as a table and a graph, for a dashboard range
// (the source precision is planned from the interval).
func TestGroupings(t *testing.T) {
	e, facts := setup(t)
	ranges := []period.Range{
		{From: testNow.Add(-2 * time.Hour), To: testNow, Interval: 2 * time.Minute},
		{From: testNow.Add(-3 * 24 * time.Hour), To: testNow, Interval: 90 * time.Minute},
		{From: testNow.Add(-200 * 24 * time.Hour), To: testNow, Interval: 3 * 24 * time.Hour},
	}
	for _, metric := range query.Metrics {
		formats, _ := sweep(metric, []string{query.FormatTable, query.FormatTimeSeries}, nil)
		for _, g := range query.GroupBysOf(query.Table(metric)) {
			for _, format := range formats {
				for i, r := range ranges {
					q := mustParse(t, fmt.Sprintf(`{"metric":%q,"groupBy":%q,"format":%q,"limit":4}`, metric, g, format))
					t.Run(fmt.Sprintf("%s/%s/%s/%d", metric, g, format, i), func(t *testing.T) {
						check(t, e, facts, q, r)
					})
				}
			}
		}
	}
	w, err := e.Window(context.Background(), mustParse(t, `{"metric":"incidents"}`), ranges[2])
	require.NoError(t, err)
	require.Equal(t, period.Daily, w.Source)
	w, err = e.Window(context.Background(), mustParse(t, `{"metric":"incidents"}`), ranges[1])
	require.NoError(t, err)
	require.Equal(t, period.Hourly, w.Source)
	require.Equal(t, time.Hour, w.Bucket)
}

func TestEmptyAndLimits(t *testing.T) {
	e, facts := setup(t)
	ctx := context.Background()
	// No row matches: grouped series give one typed frame without rows, tables no rows, an
	// ungrouped series all zeros.
	for _, s := range []string{
		`{"metric":"incidents","groupBy":"country","period":"1d","filters":{"country":["ZZ"]}}`,
		`{"metric":"incidents","groupBy":"country","format":"table","period":"1d","filters":{"country":["ZZ"]}}`,
		`{"metric":"attackers","format":"map","period":"1d","filters":{"country":["ZZ"]}}`,
		`{"metric":"usages","period":"1d","filters":{"username":"nobody-uses-this"}}`,
	} {
		q := mustParse(t, s)
		check(t, e, facts, q, period.Range{})
		frames, _, err := e.Run(ctx, q, period.Range{})
		require.NoError(t, err)
		require.NotEmpty(t, frames[0].Fields)
	}

	small := New(e.db, Options{Now: e.opts.Now, MaxRows: 50})
	_, _, err := small.Run(ctx, mustParse(t, `{"metric":"incidents","groupBy":"ip","period":"1h"}`), period.Range{})
	require.ErrorIs(t, err, ErrTooManyRows)
	require.ErrorIs(t, err, query.ErrUnsupported)
	_, _, err = small.Run(ctx, mustParse(t, `{"metric":"incidents","groupBy":"ip","format":"map","groupBy":"country","period":"1y"}`), period.Range{})
	require.NoError(t, err)
	_, _, err = small.Run(ctx, mustParse(t, `{"metric":"incidents","groupBy":"ip","format":"table","limit":0,"period":"1y"}`), period.Range{})
	require.NoError(t, err, "the default table limit (15) fits")
	_, _, err = small.Run(ctx, mustParse(t, `{"metric":"incidents","groupBy":"ip","format":"table","limit":60,"period":"1y"}`), period.Range{})
	require.ErrorIs(t, err, ErrTooManyRows)

	_, _, err = e.Run(ctx, mustParse(t, `{"queryType":"status"}`), period.Range{})
	require.ErrorIs(t, err, ErrNotStats)
	_, _, err = e.Run(ctx, mustParse(t, `{"metric":"incidents"}`), period.Range{From: testNow, To: testNow.Add(-time.Hour), Interval: time.Minute})
	require.ErrorIs(t, err, query.ErrInvalidField)
}

func TestCancel(t *testing.T) {
	e, _ := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := e.Run(ctx, mustParse(t, `{"preset":"top_countries_by_attackers_graph","period":"1y"}`), period.Range{})
	require.ErrorIs(t, err, context.Canceled)
}

// TestGolden pins the frame shapes (names, labels, types, meta) of one query per format.
func TestGolden(t *testing.T) {
	e, _ := setup(t)
	for name, s := range map[string]string{
		"timeseries": `{"preset":"top_ports_by_scans_graph","period":"1d","limit":3}`,
		"table":      `{"preset":"top_combinations_by_usages_list_long","period":"1w","limit":5}`,
		"map":        `{"preset":"all_countries_by_attackers_list","period":"1m"}`,
	} {
		t.Run(name, func(t *testing.T) {
			frames, _, err := e.Run(context.Background(), mustParse(t, s), period.Range{})
			require.NoError(t, err)
			dr := backend.DataResponse{Frames: frames}
			experimental.CheckGoldenJSONResponse(t, "testdata", name, &dr, *update)
		})
	}
}

// TestFrameMeta: the source and watermark travel in the first frame's meta.
func TestFrameMeta(t *testing.T) {
	e, _ := setup(t)
	frames, wm, err := e.Run(context.Background(), mustParse(t, `{"preset":"all_incidents_graph","period":"1w"}`), period.Range{})
	require.NoError(t, err)
	require.Equal(t, testNow.Truncate(time.Hour), wm)
	b, err := json.Marshal(frames[0].Meta.Custom)
	require.NoError(t, err)
	require.Contains(t, string(b), `"source":"incidents_hourly_by_kind + incidents_hourly_totals"`, "the newest hours are not listed")
	require.Contains(t, frames[0].Meta.ExecutedQueryString, "date_bin")
	require.True(t, slices.ContainsFunc(frames[0].Fields, func(f *data.Field) bool { return f.Name == "incidents" }))
}

// TestSourceTable: incident counts read the narrow twin only when nothing needs ip or probe.
func TestSourceTable(t *testing.T) {
	for _, c := range []struct {
		query, want string
	}{
		{`{"preset":"all_incidents_graph","period":"1y"}`, "incidents_daily_totals"},
		{`{"preset":"top_countries_by_incidents_list","period":"6h"}`, "incidents_quarterly_totals"},
		{`{"preset":"top_traps_by_incidents_graph","period":"1w"}`, "incidents_hourly_totals"},
		{`{"metric":"incidents","groupBy":"combination","period":"1m","filters":{"asn":[64500],"country":["CZ"],"trap":["fwlogs"],"action":["connect"]}}`, "incidents_daily_totals"},
		{`{"preset":"all_incidents_graph","period":"1h"}`, "incidents"},
		{`{"preset":"all_attackers_graph","period":"1y"}`, "incidents_daily"},
		{`{"metric":"incidents","groupBy":"ip","period":"1y"}`, "incidents_daily"},
		{`{"metric":"incidents","groupBy":"probe","period":"1y"}`, "incidents_daily"},
		{`{"metric":"incidents","period":"1y","filters":{"probe":[1]}}`, "incidents_daily"},
		{`{"metric":"incidents","period":"1y","filters":{"ip":"192.0.2.0/24"}}`, "incidents_daily"},
		{`{"preset":"top_passwords_by_usages_list","period":"1y"}`, "passwords_daily"},
	} {
		q := mustParse(t, c.query)
		p, ok := period.Lookup(q.Period)
		require.True(t, ok)
		require.Equal(t, c.want, sourceTable(q, p.Source), c.query)
	}
}

// TestAttackersReadSightings: distinct attackers come from the sightings only where they can
// answer exactly, and the answer does not change when a bucket is not built yet.
func TestAttackersReadSightings(t *testing.T) {
	e, facts := setup(t)
	ctx := context.Background()
	fillTwins(t, e.db, "false", testNow) // every bucket built
	for _, p := range catalog.All {
		if p.Metric != "attackers" {
			continue
		}
		for _, per := range period.Names() {
			check(t, e, facts, mustParse(t, fmt.Sprintf(`{"preset":%q,"period":%q}`, p.Name, per)), period.Range{})
		}
	}
	for _, c := range []struct {
		query, want string
	}{
		{`{"preset":"all_attackers_graph","period":"1y"}`, "incidents_daily_sightings"},
		{`{"preset":"top_countries_by_attackers_graph","period":"1w"}`, "incidents_hourly_sightings"},
		{`{"preset":"all_countries_by_attackers_list","period":"3m"}`, "incidents_daily_sightings"},
		{`{"metric":"attackers","groupBy":"country","period":"1m","filters":{"country":["CZ","US"]}}`, "incidents_daily_sightings"},
		{`{"metric":"attackers","period":"1m","filters":{"country":["CZ","US"]}}`, "incidents_daily"},
		{`{"metric":"attackers","groupBy":"country","period":"1m","filters":{"asn":[64501]}}`, "incidents_daily"},
		{`{"metric":"attackers","groupBy":"asn","period":"1m"}`, "incidents_daily"},
		{`{"preset":"all_attackers_graph","period":"1d"}`, "incidents_quarterly"},
	} {
		q := mustParse(t, c.query)
		_, info, err := e.Answer(ctx, q, period.Range{})
		require.NoError(t, err, c.query)
		require.Equal(t, c.want, info.Source, c.query)
		check(t, e, facts, q, period.Range{})
	}
	// Buckets the twin job has not built yet are computed live, up to maxLiveSightings of them;
	// beyond that the wide rollup answers. Every answer is the same.
	day := testNow.Truncate(24 * time.Hour)
	q := mustParse(t, `{"preset":"top_countries_by_attackers_list","period":"1y"}`)
	for _, c := range []struct {
		unbuilt []time.Time
		want    string
	}{
		{[]time.Time{day.AddDate(0, 0, -1)}, "incidents_daily_sightings + incidents_daily"},
		{[]time.Time{day.AddDate(0, 0, -40)}, "incidents_daily_sightings + incidents_daily"},
		{[]time.Time{day.AddDate(0, 0, -41), day.AddDate(0, 0, -300)}, "incidents_daily"},
	} {
		for _, at := range c.unbuilt {
			_, err := e.db.Exec(ctx, `DELETE FROM twin_buckets WHERE source = 'incidents' AND precision = 'daily' AND time = $1`, at)
			require.NoError(t, err)
			// What is left in the table for an unbuilt bucket must not be read.
			_, err = e.db.Exec(ctx, `UPDATE incidents_daily_sightings SET attackers = attackers * 5 + 3 WHERE time = $1`, at)
			require.NoError(t, err)
		}
		_, info, err := e.Answer(ctx, q, period.Range{})
		require.NoError(t, err)
		require.Equal(t, c.want, info.Source, "unbuilt %v", c.unbuilt)
		for _, per := range []string{"1m", "3m", "1y"} {
			check(t, e, facts, mustParse(t, fmt.Sprintf(`{"preset":"top_countries_by_attackers_graph","period":%q}`, per)), period.Range{})
			check(t, e, facts, mustParse(t, fmt.Sprintf(`{"preset":"all_countries_by_attackers_list","period":%q}`, per)), period.Range{})
		}
	}
	q = mustParse(t, `{"preset":"top_countries_by_attackers_list","period":"1w"}`)
	_, info, err := e.Answer(ctx, q, period.Range{})
	require.NoError(t, err)
	require.Equal(t, "incidents_hourly_sightings", info.Source, "an hourly window does not need daily buckets")
}

func TestSightingsApplyWithinTheLookback(t *testing.T) {
	q := mustParse(t, `{"metric":"attackers","groupBy":"country","format":"table"}`)
	until := testNow.Truncate(time.Hour)
	w := period.Window{From: until.Add(-twin.Sightings.Span("hourly")), Until: until, To: until, Bucket: time.Hour, Source: period.Hourly}
	require.True(t, sightingsApply(q, w))
	w.From = w.From.Add(-time.Hour)
	require.False(t, sightingsApply(q, w), "a window longer than the lookback")
	w.Source = period.Quarterly
	w.From = until.Add(-time.Hour)
	require.False(t, sightingsApply(q, w), "quarterly has no sightings")
}

// TestExclusions: lists of netblocks, exclusions of every key (a row whose column is NULL is
// kept), and exclusions beside filters, in every format, on the periods whose sources are raw,
// the totals, the ranked twins (with and without the wide rollup beside them) and the
// sightings: every answer equals the reference from the raw rows.
func TestExclusions(t *testing.T) {
	e, facts := setup(t)
	read := map[string]bool{} // the sources the answers were read from
	cases := []struct{ metric, groupBy, filters, exclude string }{
		// several netblocks and addresses, any of them
		{"incidents", "ip", `{"ip":["198.51.0.0/24","198.51.2.0/23","2001:db8::/32"]}`, ``},
		{"incidents", "country", `{"ip":["198.51.0.10","198.51.1.12","2001:db8::b"]}`, ``},
		{"scans", "port", `{"ip":["198.51.0.0/24","198.51.4.0/24"]}`, ``},
		// one key excluded
		{"incidents", "country", ``, `{"country":["CN"]}`},
		{"incidents", "trap", ``, `{"asn":[64500,64503]}`},
		{"incidents", "combination", ``, `{"trap":["fwlogs"],"action":["login"]}`},
		{"incidents", "ip", ``, `{"ip":["198.51.0.0/24","2001:db8::/32"]}`},
		{"incidents", "", ``, `{"ip":"198.51.1.0/24"}`},
		{"incidents", "probe", ``, `{"probe":[1]}`},
		{"attackers", "country", ``, `{"country":["CN","US"]}`},
		{"attackers", "", ``, `{"country":["CN"]}`},
		{"attackers", "asn", ``, `{"ip":["198.51.0.0/22"]}`},
		{"usages", "password", ``, `{"password":"123456"}`},
		{"usages", "combination", ``, `{"username":"root"}`},
		{"usages", "username", ``, `{"country":["CN"],"trap":["minipot_telnet"]}`},
		{"scans", "port", ``, `{"port":[22,80]}`},
		{"scans", "", ``, `{"port":[22]}`},
		{"scans", "country", ``, `{"asn":[64501],"ip":"198.51.0.0/24"}`},
		// filters and exclusions together
		{"incidents", "country", `{"trap":["minipot_telnet","fwlogs"]}`, `{"country":["CN"],"asn":[64500]}`},
		{"incidents", "ip", `{"ip":["198.51.0.0/22"]}`, `{"ip":["198.51.1.0/24"]}`},
		{"attackers", "country", `{"country":["CN","US","RU"]}`, `{"country":["US"]}`},
		{"usages", "password", `{"username":"root"}`, `{"password":"admin"}`},
		{"scans", "port", `{"country":["CN","US"]}`, `{"port":[443]}`},
	}
	for _, c := range cases {
		for _, format := range query.Formats {
			groupBy := c.groupBy
			if format == query.FormatMap {
				groupBy = "country"
			}
			for _, per := range []string{"1h", "1d", "1w", "1m", "1y"} {
				in := fmt.Sprintf(`{"metric":%q,"groupBy":%q,"format":%q,"period":%q,"limit":5`, c.metric, groupBy, format, per)
				if c.filters != "" {
					in += `,"filters":` + c.filters
				}
				if c.exclude != "" {
					in += `,"exclude":` + c.exclude
				}
				in += "}"
				t.Run(in, func(t *testing.T) {
					read[check(t, e, facts, mustParse(t, in), period.Range{})] = true
				})
			}
		}
	}
	for _, want := range []string{"incidents_hourly_by_kind + incidents_hourly_totals", "incidents_daily_by_ip + incidents_daily",
		"passwords_daily_by_password + passwords_daily", "passwords_hourly_by_login + passwords_hourly", "ports_daily_by_port + ports_daily",
		"incidents_daily_totals", "incidents_hourly_sightings + incidents_hourly", "incidents_quarterly", "incidents"} {
		require.True(t, read[want], "no exclusion read %s: %v", want, read)
	}
	// A dashboard range too.
	r := period.Range{From: testNow.Add(-20 * 24 * time.Hour), To: testNow, Interval: 24 * time.Hour}
	check(t, e, facts, mustParse(t, `{"metric":"incidents","groupBy":"country","exclude":{"country":["CN"],"ip":["198.51.0.0/24"]}}`), r)
}

// TestExclusionSources: an exclusion touches its column as a filter does: no source lacking the
// column is read, and a top-N with exclusions is not pruned.
func TestExclusionSources(t *testing.T) {
	for _, c := range []struct {
		query, table, twin string
	}{
		{`{"metric":"incidents","groupBy":"trap","period":"1y","exclude":{"asn":[64500]}}`, "incidents_daily_totals", ""},
		{`{"metric":"incidents","groupBy":"trap","period":"1y","exclude":{"country":["CN"]}}`, "incidents_daily_totals", "by_kind"},
		{`{"metric":"incidents","groupBy":"trap","period":"1y","exclude":{"probe":[1]}}`, "incidents_daily", ""},
		{`{"metric":"incidents","groupBy":"trap","period":"1w","exclude":{"ip":["192.0.2.0/24"]}}`, "incidents_hourly", ""},
		{`{"metric":"incidents","groupBy":"ip","period":"1m","exclude":{"ip":["192.0.2.0/24"]}}`, "incidents_daily", "by_ip"},
		{`{"metric":"incidents","groupBy":"ip","period":"1m","exclude":{"country":["CN"]}}`, "incidents_daily", ""},
		{`{"metric":"usages","groupBy":"password","period":"1y","exclude":{"password":"123456"}}`, "passwords_daily", "by_password"},
		{`{"metric":"usages","groupBy":"password","period":"1w","exclude":{"username":"root"}}`, "passwords_hourly", "by_login"},
		{`{"metric":"usages","groupBy":"password","period":"1y","exclude":{"trap":["haas"]}}`, "passwords_daily", ""},
		{`{"metric":"scans","groupBy":"port","period":"1y","exclude":{"port":[22]}}`, "ports_daily", "by_port"},
		{`{"metric":"scans","groupBy":"port","period":"1m","exclude":{"asn":[64500]}}`, "ports_daily", ""},
	} {
		q := mustParse(t, c.query)
		p, _ := period.Lookup(q.Period)
		require.Equal(t, c.table, sourceTable(q, p.Source), c.query)
		tw, ok := twinOf(q, p.Source)
		require.Equal(t, c.twin != "", ok, c.query)
		if ok {
			require.Equal(t, c.twin, tw.Suffix, c.query)
			require.False(t, prunable(q, tw), "a top-N with exclusions reads every row: %s", c.query)
		}
	}
	until := testNow.Truncate(24 * time.Hour)
	w := period.Window{From: until.AddDate(0, 0, -30), Until: until, To: until, Bucket: 24 * time.Hour, Source: period.Daily}
	for q, want := range map[string]bool{
		`{"metric":"attackers","groupBy":"country","exclude":{"country":["CN"]}}`:                              true,
		`{"metric":"attackers","exclude":{"country":["CN"]}}`:                                                  false,
		`{"metric":"attackers","groupBy":"country","exclude":{"asn":[64500]}}`:                                 false,
		`{"metric":"attackers","groupBy":"country","filters":{"country":["CZ"]},"exclude":{"country":["CN"]}}`: false,
	} {
		require.Equal(t, want, sightingsApply(mustParse(t, q), w), q)
	}
}

// TestMultiKeyGroupings: groupings by two and three keys, in every metric, as a graph and a
// table, over periods read from raw, the totals, the ranked twins (pruned where the keys are
// exactly a twin's) and the wide rollups, and over a dashboard range: every answer equals the
// reference computed from the raw rows, labelled and typed key by key.
func TestMultiKeyGroupings(t *testing.T) {
	e, facts := setup(t)
	groupings := map[string][]string{
		"incidents": {`["asn","trap"]`, `"country,probe"`, `["trap","action","country"]`, `["combination","country"]`, `["ip","probe"]`},
		"attackers": {`["country","asn"]`, `["trap","probe"]`},
		"usages":    {`["username","password"]`, `["password","username"]`, `["country","password"]`, `["asn","combination"]`},
		"scans":     {`["port","country"]`, `["asn","port"]`, `["probe","port","asn"]`},
		"events":    {`["asn","feed"]`, `["taxonomy","type","identifier"]`},
		"commands":  {`["command","country"]`},
	}
	read := map[string]bool{}
	for _, metric := range query.Metrics {
		for _, g := range groupings[metric] {
			for _, format := range []string{query.FormatTimeSeries, query.FormatTable} {
				for _, per := range []string{"1h", "1d", "1w", "1y"} {
					in := fmt.Sprintf(`{"metric":%q,"groupBy":%s,"format":%q,"period":%q,"limit":4}`, metric, g, format, per)
					t.Run(in, func(t *testing.T) {
						read[check(t, e, facts, mustParse(t, in), period.Range{})] = true
					})
				}
			}
			r := period.Range{From: testNow.Add(-3 * 24 * time.Hour), To: testNow, Interval: 90 * time.Minute}
			check(t, e, facts, mustParse(t, fmt.Sprintf(`{"metric":%q,"groupBy":%s,"format":"table","limit":0}`, metric, g)), r)
		}
	}
	for _, want := range []string{"incidents_daily_totals", "incidents_daily", "incidents", "passwords_daily", "ports_hourly"} {
		require.True(t, read[want], "no multi-key grouping read %s: %v", want, read)
	}
	require.True(t, slices.ContainsFunc(slices.Collect(maps.Keys(read)), func(s string) bool {
		return strings.HasPrefix(s, "incidents_daily_by_kind") && strings.Contains(s, "top-N pruned")
	}), "trap, action and country are the keys of the by_kind twin: a pruned top-N: %v", read)
	require.True(t, slices.ContainsFunc(slices.Collect(maps.Keys(read)), func(s string) bool {
		return strings.HasPrefix(s, "passwords_daily_by_login")
	}), "password and username, in either order, read the by_login twin: %v", read)
}

// TestMultiKeySources: a multi-key grouping reads a totals table or twin only when its keys
// hold every grouped column, and is pruned only when the grouped columns are the twin's keys.
func TestMultiKeySources(t *testing.T) {
	for _, c := range []struct {
		query, table, twin string
		pruned             bool
	}{
		{`{"metric":"incidents","groupBy":["asn","trap"],"period":"1y"}`, "incidents_daily_totals", "", false},
		{`{"metric":"incidents","groupBy":["trap","country"],"period":"1y"}`, "incidents_daily_totals", "by_kind", false},
		{`{"metric":"incidents","groupBy":["combination","country"],"period":"1y"}`, "incidents_daily_totals", "by_kind", true},
		{`{"metric":"incidents","groupBy":["country","action","trap"],"period":"1y"}`, "incidents_daily_totals", "by_kind", true},
		{`{"metric":"incidents","groupBy":["trap","probe"],"period":"1y"}`, "incidents_daily", "", false},
		{`{"metric":"incidents","groupBy":["ip","trap"],"period":"1y"}`, "incidents_daily", "", false},
		{`{"metric":"usages","groupBy":["password","username"],"period":"1y"}`, "passwords_daily", "by_login", true},
		{`{"metric":"usages","groupBy":["password","country"],"period":"1y"}`, "passwords_daily", "", false},
		{`{"metric":"scans","groupBy":["port","asn"],"period":"1y"}`, "ports_daily", "", false},
		{`{"metric":"attackers","groupBy":["country","asn"],"period":"1y"}`, "incidents_daily", "", false},
	} {
		q := mustParse(t, c.query)
		p, _ := period.Lookup(q.Period)
		require.Equal(t, c.table, sourceTable(q, p.Source), c.query)
		tw, ok := twinOf(q, p.Source)
		require.Equal(t, c.twin != "", ok, c.query)
		if ok {
			require.Equal(t, c.twin, tw.Suffix, c.query)
			require.Equal(t, c.pruned, prunable(q, tw), c.query)
		}
	}
	w := period.Window{From: testNow.Add(-24 * time.Hour).Truncate(time.Hour), Until: testNow.Truncate(time.Hour), Bucket: time.Hour, Source: period.Hourly}
	require.False(t, sightingsApply(mustParse(t, `{"metric":"attackers","groupBy":["country","asn"]}`), w), "sightings hold countries only")
}

// TestNamesBesideKeys: an ASN is a number with its AS name beside it and a probe its serial
// with its id beside it, in tables and series; a series' legend reads them.
func TestNamesBesideKeys(t *testing.T) {
	e, _ := setup(t)
	ctx := context.Background()
	frames, _, err := e.Run(ctx, mustParse(t, `{"metric":"incidents","groupBy":["asn","probe"],"format":"table","period":"1y","limit":0}`), period.Range{})
	require.NoError(t, err)
	f := frames[0]
	require.Equal(t, []string{"asn", "asn_name", "probe", "probe_id", "incidents"}, append(fieldNames(f), "incidents"))
	require.Equal(t, data.FieldTypeInt64, f.Fields[0].Type())
	require.Equal(t, data.FieldTypeString, f.Fields[1].Type())
	require.Equal(t, data.FieldTypeString, f.Fields[2].Type())
	require.Equal(t, data.FieldTypeInt64, f.Fields[3].Type())
	seen := map[int64]string{}
	for row := range f.Rows() {
		seen[f.Fields[0].At(row).(int64)] = f.Fields[1].At(row).(string)
	}
	require.Equal(t, map[int64]string{64500: "EXAMPLE-A", 64501: "NET-B", 64502: "", 64503: "", 64504: "", 64505: "", 64506: ""}, seen)

	frames, _, err = e.Run(ctx, mustParse(t, `{"metric":"incidents","groupBy":"asn,probe","period":"1w","limit":50}`), period.Range{})
	require.NoError(t, err)
	var legends []string
	for _, f := range frames {
		l := f.Fields[1].Labels
		require.Equal(t, []string{"asn", "asn_name", "probe", "probe_id"}, slices.Sorted(maps.Keys(l)))
		legends = append(legends, f.Fields[1].Config.DisplayNameFromDS)
	}
	require.Contains(t, legends, "AS64501 NET-B / 0000000000000001")
	require.Contains(t, legends, "AS64503 / 0000000000000002")
}
