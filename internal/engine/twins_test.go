package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/testenv"
	"github.com/sview-project/sview/internal/twin"
)

// seedTails writes random wide hourly and daily rollup rows straight into the rollups: every
// bucket holds a random number of keys (none to a few hundred) drawn from a long-tailed key
// space, with small counts that tie often. Passwords and usernames are steep (a few keys do
// most of the work, so top-N pruning holds) and begin with the excluded ” and '\n'; attacking
// addresses are flat (the residuals add up and the pruning must fall back); ports have fewer
// keys than the larger limits. Every key is spread over several wide rows (probe, ip).
func seedTails(t *testing.T, db Querier, seed float64, unlisted string) {
	t.Helper()
	ctx := context.Background()
	login := func(prefix, k string) string {
		return fmt.Sprintf(`CASE %[2]s WHEN 0 THEN '' WHEN 1 THEN E'\n' ELSE '%[1]s' || %[2]s END`, prefix, k)
	}
	for _, sql := range []string{
		fmt.Sprintf("SELECT setseed(%g)", seed),
		`INSERT INTO identity (id, sn, device_token) SELECT i, lpad(i::text, 16, '0'), lpad(to_hex(i), 64, '0') FROM generate_series(1, 3) i`,
		`CREATE TEMP TABLE tail_buckets AS
			SELECT p, b, floor(random() ^ 2 * 400)::int AS keys
			FROM (VALUES ('hourly', interval '1 hour', 200), ('daily', interval '1 day', 400)) v(p, step, n),
				generate_series(date_trunc('day', $1::timestamptz) - n * step, $1::timestamptz + 2 * step, step) b`,
	} {
		var args []any
		if strings.Contains(sql, "$1") {
			args = []any{testNow}
		}
		_, err := db.Exec(ctx, sql, args...)
		require.NoError(t, err, sql)
	}
	for _, p := range []string{"hourly", "daily"} {
		for _, sql := range []string{
			fmt.Sprintf(`INSERT INTO passwords_%s (time, raw_count, username, password, identity_id, ip)
				SELECT b, sum(1 + floor(random() ^ 4 * 6))::bigint, %s, %s, probe, ip FROM (
					SELECT b, floor(random() ^ 3 * 3000)::int AS uk, floor(random() ^ 4 * 3000)::int AS pk, 1 + floor(random() * 3)::int AS probe,
						CASE WHEN random() < 0.3 THEN NULL ELSE '192.0.2.' || floor(random() * 4) END::inet AS ip
					FROM tail_buckets, generate_series(1, keys) WHERE p = '%s') r
				GROUP BY b, uk, pk, probe, ip`, p, login("u", "uk"), login("p", "pk"), p),
			fmt.Sprintf(`INSERT INTO ports_%s (time, raw_count, port, protocol, identity_id, ip)
				SELECT b, sum(1 + floor(random() * 3))::bigint, port, proto, probe, NULL FROM (
					SELECT b, floor(random() ^ 2 * 60)::int AS port, (ARRAY['TCP', 'UDP'])[1 + floor(random() * 2)::int]::protocol_t AS proto,
						1 + floor(random() * 3)::int AS probe
					FROM tail_buckets, generate_series(1, keys) WHERE p = '%s') r
				GROUP BY b, port, proto, probe`, p, p),
			fmt.Sprintf(`INSERT INTO incidents_%s (time, raw_count, identity_id, trap, action, ip)
				SELECT b, sum(1 + floor(random() * 2))::bigint, probe, 'minipot_telnet', 'login', ip FROM (
					SELECT b, 1 + floor(random() * 3)::int AS probe, '198.51.100.0'::inet + floor(random() ^ 1.5 * 2000)::int AS ip
					FROM tail_buckets, generate_series(1, keys) WHERE p = '%s') r
				GROUP BY b, probe, ip`, p, p),
		} {
			_, err := db.Exec(ctx, sql)
			require.NoError(t, err, sql)
		}
	}
	// Where the hours cover whole days, the days hold their sums, as the aggregator's daily
	// rollup does: the week's pruning bounds read those days from the daily twins.
	for table, dims := range rollupDims {
		for _, sql := range []string{
			`DELETE FROM %[1]s_daily WHERE time >= (SELECT date_trunc('day', min(time)) + interval '1 day' FROM %[1]s_hourly)
				AND time < date_trunc('day', $1::timestamptz)`,
			`INSERT INTO %[1]s_daily (time, raw_count, %[2]s)
				SELECT date_trunc('day', time), sum(raw_count), %[2]s FROM %[1]s_hourly
				WHERE time >= (SELECT date_trunc('day', min(time)) + interval '1 day' FROM %[1]s_hourly)
					AND time < date_trunc('day', $1::timestamptz)
				GROUP BY 1, %[2]s`,
		} {
			_, err := db.Exec(ctx, fmt.Sprintf(sql, table, dims), testNow)
			require.NoError(t, err, sql)
		}
	}
	for _, source := range derived.Families {
		for _, p := range derived.TwinPrecisions() {
			_, err := db.Exec(ctx, `INSERT INTO rollup_watermarks (source, precision, watermark) VALUES ($1, $2, $3)`,
				source, p, testNow.Truncate(p.Step()))
			require.NoError(t, err)
		}
	}
	fillTotals(t, db)
	fillTwins(t, db, unlisted, testNow)
}

// TestTwinsMatchWide: on long-tailed random data, every query that reads a twin (pruned top-N
// or not, listed and unlisted buckets mixed) answers exactly what the plain statement over
// the wide rollup answers: same frames, labels, order and ties.
func TestTwinsMatchWide(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t)
	// The newest buckets and a fifth of those older than 8 days are not listed (the ranking job
	// lags, or re-rolled them): the week's hourly buckets are all listed, the longer periods mix.
	seedTails(t, pool, 0.17, fmt.Sprintf("(random() < 0.2 AND time < '%s') OR time >= '%s'",
		testNow.Add(-8*24*time.Hour).Format(time.RFC3339), testNow.Add(-3*time.Hour).Format(time.RFC3339)))
	// Late logins recomputed into the hours of a day of the week, its daily recomputation still
	// pending: the daily rows and twins of that day no longer hold the sums of its hours, so
	// the week's bounds must not read them.
	pending := testNow.Truncate(24*time.Hour).AddDate(0, 0, -3)
	for _, sql := range []string{
		`UPDATE passwords_hourly SET raw_count = raw_count * 40 + 9 WHERE time >= $1 AND time < $2 AND password LIKE '%3'`,
		`INSERT INTO rollup_invalidations (source, precision, from_time, to_time) VALUES ('passwords', 'daily', $1, $2::timestamptz - interval '1 hour')`,
	} {
		_, err := pool.Exec(ctx, sql, pending, pending.AddDate(0, 0, 1))
		require.NoError(t, err)
	}
	for _, b := range twin.Builders(derived.Passwords) {
		del, ins := b.SQL("hourly")
		for _, sql := range []string{del, ins} {
			_, err := pool.Exec(ctx, sql, pending, pending.AddDate(0, 0, 1))
			require.NoError(t, err)
		}
	}
	e := New(pool, Options{Now: func() time.Time { return testNow }})
	rng := rand.New(rand.NewPCG(7, 9))
	cases := []string{
		`"metric":"usages","groupBy":"password"`, `"metric":"usages","groupBy":"username"`,
		`"metric":"usages","groupBy":"combination"`, `"metric":"scans","groupBy":"port"`,
		`"metric":"incidents","groupBy":"ip"`, `"metric":"incidents","groupBy":"combination"`,
		// Twins without pruning: filters, or no grouping.
		`"metric":"usages","groupBy":"username","filters":{"password":"p7"}`,
		`"metric":"usages","filters":{"password":"p3"}`, `"metric":"usages","groupBy":"password","filters":{"username":"u2"}`,
		`"metric":"scans"`, `"metric":"scans","groupBy":"port","filters":{"port":[3,4,5]}`,
		`"metric":"incidents","filters":{"ip":"198.51.100.0/28"}`, `"metric":"incidents","groupBy":"ip","filters":{"ip":"198.51.100.0/25"}`,
		// Twins without pruning: exclusions (the excluded keys may be at the top), netblocks.
		`"metric":"usages","groupBy":"password","exclude":{"password":"p1"}`, `"metric":"usages","groupBy":"combination","exclude":{"username":"u2"}`,
		`"metric":"scans","groupBy":"port","exclude":{"port":[0,1,2]}`,
		`"metric":"incidents","groupBy":"ip","exclude":{"ip":["198.51.100.0/26","198.51.101.0/24"]}`,
		`"metric":"incidents","groupBy":"ip","filters":{"ip":["198.51.100.0/27","198.51.103.0/24"]},"exclude":{"ip":"198.51.100.3"}`,
	}
	limits := []int{1, 2, 5, 7, 15, 30, 100, 150}
	paths := map[string]int{}
	for _, c := range cases {
		for _, per := range []string{"1w", "1m", "3m", "1y"} {
			for _, format := range []string{query.FormatTable, query.FormatTimeSeries} {
				limit := limits[rng.IntN(len(limits))]
				if format == query.FormatTimeSeries {
					limit = min(limit, 30)
				}
				q := mustParse(t, fmt.Sprintf(`{%s,"format":%q,"period":%q,"limit":%d}`, c, format, per, limit))
				frames, info, err := e.Answer(ctx, q, period.Range{})
				require.NoError(t, err)
				name := fmt.Sprintf("%s %s %s limit %d (%s)", c, per, format, limit, info.Source)
				want, w := wideAnswer(t, e, q, period.Range{})
				stripMeta(frames)
				require.Equal(t, want, frames, name)
				path := pathOf(info.Source)
				if tw, ok := twinOf(q, w.Source); ok && prunable(q, tw) && path != "pruned" && path != "running" {
					path = "pruned fallback"
				}
				paths[path]++
			}
		}
	}
	t.Logf("paths taken: %v", paths)
	for _, p := range []string{"twin", "twin + wide", "pruned", "pruned fallback", "running"} {
		require.NotZero(t, paths[p], "no query took the %s path: %v", p, paths)
	}
}

// TestRunningTotalsMatchWide: a top-N of ports chosen from the running totals answers exactly
// what the plain statement over the wide rollup answers, for every period and for dashboard
// ranges: where the totals reach the newest bucket, where they end earlier (the buckets after
// them come from the twin and the wide rollup), and where they begin after the window does
// (the pruning answers instead).
func TestRunningTotalsMatchWide(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t)
	seedTails(t, pool, 0.29, fmt.Sprintf("time >= '%s'", testNow.Add(-3*time.Hour).Format(time.RFC3339)))
	e := New(pool, Options{Now: func() time.Time { return testNow }})
	ranges := []period.Range{
		{From: testNow.Add(-50 * time.Hour), To: testNow, Interval: time.Hour},
		{From: testNow.AddDate(0, 0, -45), To: testNow.AddDate(0, 0, -2), Interval: 24 * time.Hour},
	}
	run := func(stage string) map[string]int {
		paths := map[string]int{}
		for _, limit := range []int{1, 2, 7, 30, 100, 150} {
			for _, format := range []string{query.FormatTable, query.FormatTimeSeries} {
				if format == query.FormatTimeSeries && limit > 30 {
					continue
				}
				for i, per := range []string{"1w", "1m", "3m", "1y", "range 0", "range 1"} {
					q := mustParse(t, fmt.Sprintf(`{"metric":"scans","groupBy":"port","format":%q,"limit":%d}`, format, limit))
					var r period.Range
					if i < 4 {
						q.Period = per
					} else {
						r = ranges[i-4]
					}
					frames, info, err := e.Answer(ctx, q, r)
					require.NoError(t, err)
					want, _ := wideAnswer(t, e, q, r)
					stripMeta(frames)
					require.Equal(t, want, frames, "%s: %s %s limit %d (%s)", stage, per, format, limit, info.Source)
					paths[pathOf(info.Source)]++
				}
			}
		}
		return paths
	}
	paths := run("totals to the newest listed bucket")
	require.Equal(t, map[string]int{"running": 6 * 10}, paths)

	// The totals end 30 hours and 3 days before the watermark.
	for p, end := range map[period.Precision]time.Time{"hourly": testNow.Add(-30 * time.Hour), "daily": testNow.AddDate(0, 0, -3)} {
		_, err := pool.Exec(ctx, "DELETE FROM "+twin.Running.Table(p)+" WHERE time >= $1", end)
		require.NoError(t, err)
	}
	paths = run("totals ending early")
	require.Equal(t, map[string]int{"running": 6 * 10}, paths)

	// The totals begin after every window starts.
	for p, start := range map[period.Precision]time.Time{"hourly": testNow.Add(-40 * time.Hour), "daily": testNow.AddDate(0, 0, -10)} {
		tag, err := pool.Exec(ctx, "DELETE FROM "+twin.Running.Table(p)+" WHERE time < $1", start)
		require.NoError(t, err)
		require.Positive(t, tag.RowsAffected())
	}
	paths = run("totals beginning late")
	require.Zero(t, paths["running"], "%v", paths)
}

// pathOf names the path an Info.Source shows, for coverage: a top-N chosen from running
// totals, a pruned one, one that fell back to reading the twin whole, or a twin read with or without the wide rollup beside it.
func pathOf(source string) string {
	switch {
	case strings.Contains(source, "_running"):
		return "running"
	case strings.Contains(source, "pruned"):
		return "pruned"
	case !strings.Contains(source, "_by_"):
		return "wide"
	case strings.Contains(source, " + "):
		return "twin + wide"
	}
	return "twin"
}

// wideAnswer is q's answer from the plain statement over the wide rollup.
func wideAnswer(t *testing.T, e *Engine, q query.Query, r period.Range) (data.Frames, period.Window) {
	t.Helper()
	w, err := e.Window(context.Background(), q, r)
	require.NoError(t, err)
	return statementAnswer(t, e, q, w, source{table: derived.RollupOf(q.Table()).Name(w.Source)}), w
}

// statementAnswer is q's answer over w from the one plain statement on src, as Answer frames it.
func statementAnswer(tb testing.TB, e *Engine, q query.Query, w period.Window, src source) data.Frames {
	tb.Helper()
	ctx := context.Background()
	var frames data.Frames
	var err error
	if q.Format == query.FormatTimeSeries {
		frames, err = e.series(ctx, q, w, seriesSQL(q, w, src))
	} else {
		frames, err = e.table(ctx, q, tableSQL(q, w, src, e.opts.MaxRows+1))
	}
	require.NoError(tb, err)
	return frames
}

// stripMeta drops what annotate adds, which differs between two ways of reading.
func stripMeta(frames data.Frames) {
	frames[0].Meta.ExecutedQueryString = ""
	frames[0].Meta.Custom = nil
}

// TestTwinOf: which twin a query reads, and whether its top-N is pruned.
func TestTwinOf(t *testing.T) {
	for _, c := range []struct {
		query, twin string
		pruned      bool
	}{
		{`{"preset":"selected_password_by_usages_graph","period":"1y","filters":{"password":"x"}}`, "by_password", false},
		{`{"preset":"logins_of_password_by_usages_list","period":"1w","filters":{"password":"x"}}`, "by_login", false},
		{`{"preset":"all_ports_by_scans_graph","period":"1m"}`, "by_protocol", false},
		{`{"preset":"selected_attacker_incidents_graph","period":"3m","filters":{"ip":"192.0.2.1"}}`, "by_ip", false},
		{`{"preset":"top_passwords_by_usages_list_long","period":"1y"}`, "by_password", true},
		{`{"preset":"top_usernames_by_usages_list","period":"1w"}`, "by_username", true},
		{`{"preset":"top_combinations_by_usages_list_long","period":"1m"}`, "by_login", true},
		{`{"preset":"top_ports_by_scans_graph","period":"1y"}`, "by_port", true},
		{`{"preset":"top_attackers_by_incidents_list_long","period":"1y"}`, "by_ip", true},
		{`{"metric":"usages","groupBy":"password","period":"1y","filters":{"username":"root"}}`, "by_login", false},
		{`{"preset":"top_passwords_by_usages_list","period":"1d"}`, "", false}, // quarterly: no twins
		{`{"preset":"all_incidents_graph","period":"1y"}`, "by_kind", false},
		{`{"preset":"top_traps_by_incidents_graph","period":"1w"}`, "by_kind", false},
		{`{"metric":"incidents","groupBy":"asn","period":"1y"}`, "", false},       // the totals
		{`{"preset":"top_countries_by_attackers_list","period":"1y"}`, "", false}, // not a sum
		{`{"metric":"usages","groupBy":"country","period":"1y"}`, "", false},      // no twin has country
		{`{"metric":"scans","groupBy":"port","period":"1y","filters":{"probe":[1]}}`, "", false},
	} {
		q := mustParse(t, c.query)
		p, _ := period.Lookup(q.Period)
		tw, ok := twinOf(q, p.Source)
		require.Equal(t, c.twin != "", ok, c.query)
		if ok {
			require.Equal(t, c.twin, tw.Suffix, c.query)
			require.Equal(t, c.pruned, prunable(q, tw), c.query)
		}
	}
}
