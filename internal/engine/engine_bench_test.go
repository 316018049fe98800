//go:build bench

package engine

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/catalog"
	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/testenv"
)

// benchScale reads SVIEW_BENCH_SCALE: 1 is the size (30 days of raw at a million
// incidents a day, plus a year of daily rollups).
func benchScale(b *testing.B) float64 {
	s := os.Getenv("SVIEW_BENCH_SCALE")
	if s == "" {
		return 1
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 {
		b.Fatalf("SVIEW_BENCH_SCALE=%q: want a positive number", s)
	}
	return v
}

// benchDays reads SVIEW_BENCH_DAYS: how many days of raw rows to seed, 30 unless set lower to
// time the periods up to a week at the density (a million incidents a day at scale 1)
// without rolling up a month; the longer periods of such a run mean nothing.
func benchDays(b testing.TB) int {
	s := os.Getenv("SVIEW_BENCH_DAYS")
	if s == "" {
		return 30
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > 30 {
		b.Fatalf("SVIEW_BENCH_DAYS=%q: want a whole number of days from 1 to 30", s)
	}
	return v
}

// benchYear reports whether the daily rows are repeated back over a year, as the bench
// data asks: unless SVIEW_BENCH_YEAR=false, or fewer than 30 days of raw are seeded. Without
// the year a run times the periods up to a month only, at a fraction of the seeding time.
func benchYear(b testing.TB) bool {
	if s := os.Getenv("SVIEW_BENCH_YEAR"); s != "" {
		v, err := strconv.ParseBool(s)
		if err != nil {
			b.Fatalf("SVIEW_BENCH_YEAR=%q: want true or false", s)
		}
		if !v {
			return false
		}
	}
	return benchDays(b) == 30
}

// seedBench generates raw rows with generate_series: attackers work in sessions (one address,
// one probe, one kind of incident for a few minutes), a few addresses do most of the work,
// logins try many passwords from a long-tailed list. The rollups are filled with INSERT …
// SELECT … GROUP BY, and the days of daily rows are repeated back over a year so the daily
// table holds 390 days; the totals and ranked twins are built from them, every bucket listed.
func seedBench(b testing.TB, db Querier, scale float64, now time.Time) (sizes []string, rawIncidents int64) {
	ctx := context.Background()
	days := benchDays(b)
	n := func(perDay float64) int64 { return max(int64(perDay*float64(days)*scale), 1000) }
	incidents, logins, scans := n(1e6), n(0.2e6), n(0.2e6)
	sessions, addresses := max(incidents/50, 100), n(85_000)
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"seed", "SELECT setseed(0.42)", nil},
		{"probes", `INSERT INTO identity (id, sn, device_token)
			SELECT i, lpad(i::text, 16, '0'), lpad(to_hex(i), 64, '0') FROM generate_series(1, 2000) i`, nil},
		{"sessions", `CREATE TABLE bench_sessions AS
			SELECT s, $1::timestamptz - random() * $4::int * interval '1 day' AS start,
				random() * interval '20 minutes' AS span,
				floor(random() ^ 3 * $3)::int AS attacker,
				1 + floor(random() * 2000)::int AS probe,
				floor(random() ^ 2 * 10)::int AS kind
			FROM generate_series(1, $2::bigint) s`, []any{now, sessions, addresses, days}},
		{"incidents", `INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
			SELECT start + random() * span, 1, probe,
				(ARRAY['minipot_telnet','minipot_telnet','minipot_telnet','minipot_ftp','minipot_http','minipot_http',
					'minipot_smtp','fwlogs','fwlogs','haas'])[kind + 1]::trap_t,
				(ARRAY['login','connect','invalid','login','message','login','login','small_port_scan','big_port_scan','login'])[kind + 1]::action_t,
				'100.64.0.0'::inet + attacker,
				CASE WHEN attacker % 40 = 7 THEN NULL ELSE (ARRAY['CN','US','RU','BR','IN','VN','DE','NL','KR','ID','FR','GB','CZ','TW','UA','IR','TH','SG','HK','JP'])[attacker % 20 + 1] END,
				CASE WHEN attacker % 50 = 9 THEN NULL ELSE 64500 + attacker % 300 END
			FROM (SELECT 1 + floor(random() * $1)::bigint AS s FROM generate_series(1, $2::bigint)) r JOIN bench_sessions USING (s)`,
			[]any{sessions, incidents}},
		{"passwords", `INSERT INTO passwords (time, raw_count, username, password, identity_id, trap, ip, country, asn)
			SELECT start + random() * span, 1,
				(ARRAY['root','admin','user','support','guest','pi','ubnt','test','oracle','ftp'])[1 + floor(random() ^ 2 * 10)::int],
				CASE WHEN random() < 0.4 THEN (ARRAY['123456','admin','password','root','12345','1234','qwerty','default','pass',''])[1 + floor(random() ^ 2 * 10)::int]
					ELSE 'pw' || floor(random() ^ 3 * 200000)::int END,
				probe, 'minipot_telnet', '100.64.0.0'::inet + attacker,
				(ARRAY['CN','US','RU','BR','IN','VN','DE','NL','KR','ID','FR','GB','CZ','TW','UA','IR','TH','SG','HK','JP'])[attacker % 20 + 1],
				64500 + attacker % 300
			FROM (SELECT 1 + floor(random() * $1)::bigint AS s FROM generate_series(1, $2::bigint)) r JOIN bench_sessions USING (s)`,
			[]any{sessions, logins}},
		{"ports", `INSERT INTO ports (time, raw_count, port, protocol, identity_id, ip, country, asn)
			SELECT start + random() * span, 1,
				CASE WHEN random() < 0.7 THEN (ARRAY[22,23,80,443,445,3389,8080,5060,1433,3306])[1 + floor(random() ^ 2 * 10)::int]
					ELSE 1 + floor(random() * 65535)::int END,
				CASE WHEN random() < 0.9 THEN 'TCP' ELSE 'UDP' END::protocol_t,
				probe, '100.64.0.0'::inet + attacker,
				(ARRAY['CN','US','RU','BR','IN','VN','DE','NL','KR','ID','FR','GB','CZ','TW','UA','IR','TH','SG','HK','JP'])[attacker % 20 + 1],
				64500 + attacker % 300
			FROM (SELECT 1 + floor(random() * $1)::bigint AS s FROM generate_series(1, $2::bigint)) r JOIN bench_sessions USING (s)`,
			[]any{sessions, scans}},
		{"drop sessions", "DROP TABLE bench_sessions", nil},
	}
	// Benchmark logs are cut after ten lines: one line for the timings, one per table.
	timings := "seeded"
	for _, s := range steps {
		start := time.Now()
		_, err := db.Exec(ctx, s.sql, s.args...)
		require.NoError(b, err, s.what)
		timings += fmt.Sprintf(" %s %s,", s.what, time.Since(start).Round(time.Millisecond))
	}
	start := time.Now()
	fillBenchRollups(b, db, now)
	sizes = append(sizes, fmt.Sprintf("%s rollups %s", timings, time.Since(start).Round(time.Millisecond)))
	_, err := db.Exec(ctx, "ANALYZE")
	require.NoError(b, err)
	for _, table := range derived.Families {
		line := string(table) + ":"
		for _, p := range period.Precisions {
			var rows, bytes int64
			require.NoError(b, db.QueryRow(ctx, fmt.Sprintf("SELECT count(*), pg_total_relation_size('%s') FROM %s", derived.RollupOf(table).Name(p), derived.RollupOf(table).Name(p))).Scan(&rows, &bytes))
			line += fmt.Sprintf(" %s %d rows (%.0f MiB),", p, rows, float64(bytes)/(1<<20))
			if p == period.Raw && table == "incidents" {
				rawIncidents = rows
			}
		}
		sizes = append(sizes, line)
	}
	return sizes, rawIncidents
}

func fillBenchRollups(b testing.TB, db Querier, now time.Time) {
	ctx := context.Background()
	steps := []struct {
		from, to period.Precision
		bucket   string
	}{{period.Raw, period.Quarterly, "15 minutes"}, {period.Quarterly, period.Hourly, "1 hour"}, {period.Hourly, period.Daily, "1 day"}}
	for _, table := range derived.Families {
		dims := rollupDims[table]
		for _, s := range steps {
			_, err := db.Exec(ctx, fmt.Sprintf(`INSERT INTO %s (time, raw_count, %s)
				SELECT date_bin('%s', time, 'epoch'), sum(raw_count), %s FROM %s GROUP BY 1, %s`,
				derived.RollupOf(table).Name(s.to), dims, s.bucket, dims, derived.RollupOf(table).Name(s.from), dims))
			require.NoError(b, err, "fill %s", derived.RollupOf(table).Name(s.to))
			_, err = db.Exec(ctx, `INSERT INTO rollup_watermarks (source, precision, watermark) VALUES ($1, $2, $3)`,
				table, string(s.to), now.Truncate(s.to.Step()))
			require.NoError(b, err)
		}
		// The raw days are 31 calendar days at most; shifting them back by 31 days twelve times
		// never collides and covers 403 days.
		if !benchYear(b) {
			continue
		}
		_, err := db.Exec(ctx, fmt.Sprintf(`INSERT INTO %[1]s (time, raw_count, %[2]s)
			SELECT time - k * interval '31 days', raw_count, %[2]s FROM %[1]s, generate_series(1, 12) k`,
			derived.RollupOf(table).Name(period.Daily), dims))
		require.NoError(b, err, "extend %s over a year", derived.RollupOf(table).Name(period.Daily))
	}
	fillTotals(b, db)
	fillTwins(b, db, "false", now) // every bucket listed, as after the twin job caught up
}

// BenchmarkCold times every preset at every period through the engine (no cache in front),
// next to the same answer computed from the raw rows in the same run.
func BenchmarkCold(b *testing.B) {
	scale := benchScale(b)
	now := time.Now().UTC().Truncate(time.Second)
	pool := testenv.Pool(b)
	sizes, rawIncidents := seedBench(b, pool, scale, now)
	// Logs of a benchmark with sub-benchmarks are not printed, so the data size is reported by
	// a sub-benchmark of its own.
	b.Run("dataset", func(b *testing.B) {
		for b.Loop() {
		}
		b.Logf("scale %g, %d days of raw", scale, benchDays(b))
		for _, s := range sizes {
			b.Log(s)
		}
		b.ReportMetric(float64(rawIncidents), "raw_incident_rows")
	})
	e := New(pool, Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	required := map[string]string{
		"probe": `"filters":{"probe":[1,2,3]}`, "ip": `"filters":{"ip":"100.64.0.1"}`, "password": `"filters":{"password":"123456"}`,
	}
	// The raw tables hold 30 days (SVIEW_BENCH_DAYS): a longer window's raw statement reads only
	// those, so its time is also extrapolated to the whole window.
	rawFrom := map[derived.Family]time.Time{}
	for _, table := range derived.Families {
		var first time.Time
		require.NoError(b, pool.QueryRow(ctx, "SELECT min(time) FROM "+string(table)).Scan(&first))
		rawFrom[table] = first
	}
	var results []result
	for _, p := range catalog.All {
		for _, per := range period.Names() {
			in := fmt.Sprintf(`{"preset":%q,"period":%q`, p.Name, per)
			if p.Requires != "" {
				in += "," + required[p.Requires]
			}
			q, err := query.Parse([]byte(in + "}"))
			require.NoError(b, err)
			b.Run(p.Name+"/"+per, func(b *testing.B) {
				var cold time.Duration
				for b.Loop() {
					start := time.Now()
					_, _, err := e.Run(ctx, q, period.Range{})
					cold = time.Since(start)
					require.NoError(b, err)
				}
				raw, covered := rawAnswer(b, e, q, rawFrom[q.Table()])
				r := result{name: p.Name, per: per, cold: cold, raw: raw, rawExtrapolated: time.Duration(float64(raw) * covered)}
				b.ReportMetric(float64(cold.Microseconds())/1000, "cold_ms")
				b.ReportMetric(float64(raw.Microseconds())/1000, "raw_ms")
				b.ReportMetric(raw.Seconds()/cold.Seconds(), "x_faster_than_raw")
				b.ReportMetric(float64(r.rawExtrapolated.Microseconds())/1000, "raw_extrapolated_ms")
				b.ReportMetric(r.rawExtrapolated.Seconds()/cold.Seconds(), "x_faster_than_extrapolated_raw")
				results = append(results, r)
			})
		}
	}
	// Summary per period: the slowest cold query, the smallest speed-up over raw and how many
	// presets meet issue 4's target.
	b.Run("summary", func(b *testing.B) {
		for b.Loop() {
		}
		summarize(b, results)
	})
}

type result struct {
	name      string
	per       string
	cold, raw time.Duration
	// raw scaled to the whole window when the raw rows cover only part of it (3m, 1y)
	rawExtrapolated time.Duration
}

// baseline is what issue 4's ≥ 20× compares with: the measured raw statement where the raw
// rows cover the window (up to 1m with 30 days of raw), the extrapolated one where they cover
// a part of it (3m, 1y).
func (r result) baseline() time.Duration {
	if r.rawExtrapolated > r.raw*11/10 {
		return r.rawExtrapolated
	}
	return r.raw
}

func summarize(b *testing.B, results []result) {
	var slowest time.Duration
	for _, per := range period.Names() {
		var worst, ratio float64 = 0, 1e9
		var worstName string
		var n, met int
		for _, r := range results {
			if r.per != per {
				continue
			}
			if ms := float64(r.cold.Microseconds()) / 1000; ms > worst {
				worst, worstName = ms, r.name
			}
			x := r.baseline().Seconds() / r.cold.Seconds()
			ratio = min(ratio, x)
			n++
			if r.cold < time.Second && x >= 20 {
				met++
			}
		}
		b.Logf("period %s: %d of %d presets under 1 s and ≥ 20× raw; slowest cold %.1f ms (%s), smallest speed-up %.1f×", per, met, n, worst, worstName, ratio)
		slowest = max(slowest, time.Duration(worst*float64(time.Millisecond)))
	}
	b.ReportMetric(float64(slowest.Microseconds())/1000, "slowest_cold_ms")
	slices.SortFunc(results, func(a, b result) int { return int(b.cold - a.cold) })
	for _, r := range results[:min(3, len(results))] {
		b.Logf("slowest: %s %s cold %s raw %s", r.name, r.per, r.cold.Round(time.Millisecond), r.raw.Round(time.Millisecond))
	}
}

// rawAnswer computes q's answer from the raw table over the same window (the same statement
// with the raw table as its source) and returns how long it took and how many times longer
// the window is than the part of it the raw rows (from rawFrom on) cover.
func rawAnswer(b *testing.B, e *Engine, q query.Query, rawFrom time.Time) (time.Duration, float64) {
	ctx := context.Background()
	w, err := e.Window(ctx, q, period.Range{})
	require.NoError(b, err)
	w.Source = period.Raw
	start := time.Now()
	statementAnswer(b, e, q, w, source{table: sourceTable(q, w.Source)})
	covered := w.Until.Sub(later(w.From, rawFrom))
	return time.Since(start), w.Until.Sub(w.From).Seconds() / covered.Seconds()
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// BenchmarkYearDaily answers the question the scaled run cannot: at the full size, how
// long do year-long queries take? It writes a year (390 days) of daily incident rows directly,
// shaped like the sessions of seedBench (about 20,000 sessions a day at scale 1, 50 incidents
// each), builds the totals and the twins (sightings included) as the aggregator does, then
// times the year presets through the engine next to the same answer read from the wide
// rollup (sums, and count(DISTINCT ip) for attackers) in the same run.
func BenchmarkYearDaily(b *testing.B) {
	scale := benchScale(b)
	now := time.Now().UTC().Truncate(time.Second)
	ctx := context.Background()
	pool := testenv.Pool(b)
	perDay := max(int64(20_000*scale), 100)
	start := time.Now()
	for _, sql := range []string{
		"SELECT setseed(0.42)",
		`INSERT INTO identity (id, sn, device_token) SELECT i, lpad(i::text, 16, '0'), lpad(to_hex(i), 64, '0') FROM generate_series(1, 2000) i`,
		fmt.Sprintf(`INSERT INTO incidents_daily (time, raw_count, identity_id, trap, action, ip, country, asn)
			SELECT day, sum(n), probe,
				(ARRAY['minipot_telnet','minipot_telnet','minipot_telnet','minipot_ftp','minipot_http','minipot_http',
					'minipot_smtp','fwlogs','fwlogs','haas'])[kind + 1]::trap_t,
				(ARRAY['login','connect','invalid','login','message','login','login','small_port_scan','big_port_scan','login'])[kind + 1]::action_t,
				'100.64.0.0'::inet + attacker,
				CASE WHEN attacker %% 40 = 7 THEN NULL ELSE (ARRAY['CN','US','RU','BR','IN','VN','DE','NL','KR','ID','FR','GB','CZ','TW','UA','IR','TH','SG','HK','JP'])[attacker %% 20 + 1] END,
				CASE WHEN attacker %% 50 = 9 THEN NULL ELSE 64500 + attacker %% 300 END
			FROM (SELECT date_trunc('day', $1::timestamptz) - d * interval '1 day' AS day,
					floor(random() ^ 3 * 85000)::int AS attacker, 1 + floor(random() * 2000)::int AS probe,
					floor(random() ^ 2 * 10)::int AS kind, 1 + floor(random() * 99)::int AS n
				FROM generate_series(1, 390) d, generate_series(1, %d) s) g
			GROUP BY 1, 3, 4, 5, 6, 7, 8`, perDay),
		`INSERT INTO rollup_watermarks (source, precision, watermark) VALUES ('incidents', 'daily', date_trunc('day', $1::timestamptz))`,
		`INSERT INTO incidents_daily_totals (time, raw_count, trap, action, country, asn)
			SELECT time, sum(raw_count), trap, action, country, asn FROM incidents_daily GROUP BY 1, 3, 4, 5, 6`,
		"ANALYZE",
	} {
		_, err := pool.Exec(ctx, sql, sqlArgs(sql, now)...)
		require.NoError(b, err)
	}
	written := time.Since(start)
	start = time.Now()
	fillTwins(b, pool, "false", now)
	_, err := pool.Exec(ctx, "ANALYZE")
	require.NoError(b, err)
	built := time.Since(start)
	var wide, totals, sightings int64
	require.NoError(b, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM incidents_daily), (SELECT count(*) FROM incidents_daily_totals),
		(SELECT count(*) FROM incidents_daily_sightings)`).Scan(&wide, &totals, &sightings))
	b.Run("dataset", func(b *testing.B) {
		for b.Loop() {
		}
		b.Logf("scale %g: incidents_daily %d rows written in %s; totals %d rows; sightings %d rows; twins built in %s",
			scale, wide, written.Round(time.Second), totals, sightings, built.Round(time.Second))
		b.ReportMetric(float64(wide), "daily_rows")
		b.ReportMetric(built.Seconds(), "twins_build_s")
	})
	e := New(pool, Options{Now: func() time.Time { return now }})
	for name, want := range map[string]string{
		"all_incidents_graph": "incidents_daily_by_kind", "top_countries_by_incidents_list": "incidents_daily_by_kind",
		"top_traps_by_incidents_graph": "incidents_daily_by_kind", "all_countries_by_incidents_list": "incidents_daily_by_kind",
		"all_attackers_graph": "incidents_daily_sightings", "top_countries_by_attackers_list": "incidents_daily_sightings",
		"top_countries_by_attackers_graph": "incidents_daily_sightings", "all_countries_by_attackers_list": "incidents_daily_sightings",
	} {
		q, err := query.Parse([]byte(`{"preset":"` + name + `","period":"1y"}`))
		require.NoError(b, err)
		b.Run(name, func(b *testing.B) {
			var cold time.Duration
			var info Info
			for b.Loop() {
				t0 := time.Now()
				_, info, err = e.Answer(ctx, q, period.Range{})
				require.NoError(b, err)
				cold = time.Since(t0)
			}
			require.Equal(b, want, info.Source)
			w, err := e.Window(ctx, q, period.Range{})
			require.NoError(b, err)
			src := source{table: "incidents_daily"}
			t0 := time.Now()
			if q.Format == query.FormatTimeSeries {
				_, err = e.series(ctx, q, w, seriesSQL(q, w, src))
			} else {
				_, err = e.table(ctx, q, tableSQL(q, w, src, e.opts.MaxRows+1))
			}
			require.NoError(b, err)
			alt := time.Since(t0)
			b.ReportMetric(float64(cold.Microseconds())/1000, "engine_ms")
			b.ReportMetric(float64(alt.Microseconds())/1000, "wide_ms")
			b.ReportMetric(alt.Seconds()/cold.Seconds(), "x_faster_than_wide")
		})
	}
}

func sqlArgs(sql string, now time.Time) []any {
	if strings.Contains(sql, "$1") {
		return []any{now}
	}
	return nil
}
