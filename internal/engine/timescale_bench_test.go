//go:build bench

package engine

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/aggregator"
	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/testenv"
)

// caggs are the hierarchical continuous aggregates a TimescaleDB user would build instead of
// sview's incident rollups: the same columns, 15 min → 1 h → 1 d, each from the one below,
// real-time (materialized_only = false) so that, like sview, they answer up to now.
type cagg struct {
	precision period.Precision
	name      string
	sql       string
}

var caggs = []cagg{
	{period.Quarterly, "incidents_cagg_quarterly", `CREATE MATERIALIZED VIEW incidents_cagg_quarterly
		WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
		SELECT time_bucket('15 minutes', time) AS time, identity_id, trap, action, ip, country, asn,
		       sum(coalesce(raw_count, 1))::bigint AS raw_count
		FROM incidents GROUP BY 1, 2, 3, 4, 5, 6, 7 WITH NO DATA`},
	{period.Hourly, "incidents_cagg_hourly", `CREATE MATERIALIZED VIEW incidents_cagg_hourly
		WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
		SELECT time_bucket('1 hour', time) AS time, identity_id, trap, action, ip, country, asn, sum(raw_count)::bigint AS raw_count
		FROM incidents_cagg_quarterly GROUP BY 1, 2, 3, 4, 5, 6, 7 WITH NO DATA`},
	{period.Daily, "incidents_cagg_daily", `CREATE MATERIALIZED VIEW incidents_cagg_daily
		WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
		SELECT time_bucket('1 day', time) AS time, identity_id, trap, action, ip, country, asn, sum(raw_count)::bigint AS raw_count
		FROM incidents_cagg_hourly GROUP BY 1, 2, 3, 4, 5, 6, 7 WITH NO DATA`},
}

// caggPresets are the incident presets timed against the aggregates: every incident and attacker
// shape the dashboards use (series, top-N series, tables, a map, the long attackers list, a
// probe's own graph).
var caggPresets = []string{
	"all_incidents_graph", "all_attackers_graph", "top_incident_types_by_incidents_list",
	"top_traps_by_incidents_graph", "top_attackers_by_incidents_list_long", "top_countries_by_incidents_list",
	"top_countries_by_attackers_list", "all_countries_by_incidents_list", "top_countries_by_attackers_graph",
	"my_all_incidents_graph",
}

// BenchmarkVersusContinuousAggregates sets sview beside what a TimescaleDB user would do without
// it, on the same raw incidents in one TimescaleDB database (SVIEW_TEST_TIMESCALE_URL): a full
// catch-up of sview's incident rollups against refresh_continuous_aggregate of the three
// aggregates, the recompute of one day that received late rows, and query latency of the
// presets over a day, a week and a month through the engine in process against the engine's
// own statement run on the aggregate of the same precision over an open connection. Scale 1 is
// 320,000 incidents over 32 days.
func BenchmarkVersusContinuousAggregates(b *testing.B) {
	ctx := context.Background()
	scale := benchScale(b)
	pool := testenv.TimescalePool(b)
	const days = 32
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	now := start.Add(days*24*time.Hour + time.Hour)
	rows := max(int64(320_000*scale), 10_000)
	seedIncidents(b, pool, start, days*24*time.Hour, rows, 0.42)
	for _, c := range caggs {
		_, err := pool.Exec(ctx, c.sql)
		require.NoError(b, err)
	}

	m, err := aggregator.New(pool, aggregator.Config{Now: func() time.Time { return now }})
	require.NoError(b, err)
	steps := func() map[string]time.Duration {
		out := map[string]time.Duration{}
		rows, err := pool.Query(ctx, `SELECT job, duration_ms FROM job_runs WHERE job LIKE 'rollup:incidents:%'`)
		require.NoError(b, err)
		defer rows.Close()
		for rows.Next() {
			var job string
			var ms int64
			require.NoError(b, rows.Scan(&job, &ms))
			out[job] = time.Duration(ms) * time.Millisecond
		}
		require.NoError(b, rows.Err())
		return out
	}
	refresh := func(from, to *time.Time) map[period.Precision]time.Duration {
		out := map[period.Precision]time.Duration{}
		for _, c := range caggs {
			t0 := time.Now()
			_, err := pool.Exec(ctx, "CALL refresh_continuous_aggregate($1, $2::timestamptz, $3::timestamptz)", c.name, from, to)
			require.NoError(b, err)
			out[c.precision] = time.Since(t0)
		}
		return out
	}
	sameSums := func() {
		for _, c := range caggs {
			var ours, theirs int64
			require.NoError(b, pool.QueryRow(ctx, fmt.Sprintf(`SELECT (SELECT sum(raw_count) FROM %s), (SELECT sum(raw_count) FROM %s)`,
				derived.RollupOf(derived.Incidents).Name(c.precision), c.name)).Scan(&ours, &theirs))
			require.Equal(b, theirs, ours, "%s holds other sums than %s", derived.RollupOf(derived.Incidents).Name(c.precision), c.name)
		}
	}

	// Both maintenance runs are measured here, before any sub-benchmark, so the query timings
	// below always read the caught-up tables, whichever sub-benchmarks -bench selects.
	type run struct {
		sview, twins time.Duration
		steps        map[string]time.Duration
		refreshed    map[period.Precision]time.Duration
	}
	maintain := func(from, to *time.Time) run {
		var r run
		t0 := time.Now()
		require.NoError(b, m.CatchUp(ctx, "quarterly"))
		r.sview = time.Since(t0)
		t0 = time.Now()
		_, err := m.BuildTwins(ctx, aggregator.TwinOptions{})
		require.NoError(b, err)
		r.twins = time.Since(t0)
		r.steps = steps()
		r.refreshed = refresh(from, to)
		sameSums()
		return r
	}
	catchUp := maintain(nil, nil)
	// One percent of a day's rows arrives a day late: the next catch-up must redo that day.
	day := start.Add(10 * 24 * time.Hour)
	end := day.Add(24 * time.Hour)
	seedIncidents(b, pool, day, 24*time.Hour, rows/days/100, 0.7)
	lateDay := maintain(&day, &end)
	for _, named := range []struct {
		name string
		run
	}{{"catch-up", catchUp}, {"late-day", lateDay}} {
		r := named.run
		b.Run(named.name, func(b *testing.B) {
			for b.Loop() {
			}
			reportSteps(b, r.steps, r.refreshed)
			b.ReportMetric(ms(r.sview), "sview_rollups_ms")
			b.ReportMetric(ms(r.twins), "sview_twins_ms")
			var refreshes time.Duration
			for _, d := range r.refreshed {
				refreshes += d
			}
			b.ReportMetric(ms(refreshes), "cagg_refreshes_ms")
			b.ReportMetric(refreshes.Seconds()/r.sview.Seconds(), "x_faster_than_cagg")
			b.Logf("%d raw incidents over %d days; sview's rollups with their totals %s (the three refreshes %s), then the ranked twins and sightings %s",
				rows, days, r.sview.Round(time.Millisecond), refreshes.Round(time.Millisecond), r.twins.Round(time.Millisecond))
		})
	}

	e := New(pool, Options{Now: func() time.Time { return now }})
	var slower []string
	var n int
	for _, name := range caggPresets {
		for _, per := range []string{"1d", "1w", "1m"} {
			in := fmt.Sprintf(`{"preset":%q,"period":%q`, name, per)
			if name == "my_all_incidents_graph" {
				in += `,"filters":{"probe":[1,2,3]}`
			}
			q, err := query.Parse([]byte(in + "}"))
			require.NoError(b, err)
			b.Run(name+"/"+per, func(b *testing.B) {
				var ours, theirs time.Duration
				var ourAnswer, theirAnswer data.Frames
				for b.Loop() {
					ours, theirs = medianPair(5, func() time.Duration {
						t0 := time.Now()
						var err error
						ourAnswer, _, err = e.Run(ctx, q, period.Range{})
						require.NoError(b, err)
						return time.Since(t0)
					}, func() time.Duration {
						t0 := time.Now()
						theirAnswer = onAggregate(b, e, q)
						return time.Since(t0)
					})
				}
				stripMeta(ourAnswer)
				require.Equal(b, theirAnswer, ourAnswer, "sview and the aggregates answer differently")
				b.ReportMetric(ms(ours), "sview_ms")
				b.ReportMetric(ms(theirs), "cagg_ms")
				b.ReportMetric(theirs.Seconds()/ours.Seconds(), "x_faster_than_cagg")
				n++
				if ours > theirs {
					slower = append(slower, fmt.Sprintf("%s %s (%s vs %s)", name, per, ours.Round(10*time.Microsecond), theirs.Round(10*time.Microsecond)))
				}
			})
		}
	}
	b.Run("summary", func(b *testing.B) {
		for b.Loop() {
		}
		b.Logf("%d of %d preset × period queries slower through sview than on the continuous aggregates", len(slower), n)
		for _, s := range slower {
			b.Log("slower: " + s)
		}
		b.ReportMetric(float64(len(slower)), "presets_slower_than_cagg")
	})
}

// seedIncidents writes n incidents spread over [from, from+span) with a reproducible random
// source: 100 probes, a few addresses doing most of the work, country and asn filled as ingest
// fills them.
func seedIncidents(b *testing.B, pool *pgxpool.Pool, from time.Time, span time.Duration, n int64, seed float64) {
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	require.NoError(b, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `INSERT INTO identity (id, sn, device_token)
		SELECT i, 'sn' || i, lpad(to_hex(i), 64, '0') FROM generate_series(1, 100) i ON CONFLICT DO NOTHING`)
	require.NoError(b, err)
	_, err = conn.Exec(ctx, "SELECT setseed($1)", seed)
	require.NoError(b, err)
	_, err = conn.Exec(ctx, `
		INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
		SELECT $1::timestamptz + (g::float8 / $3) * $2::interval,
		       1, 1 + (g * 7919) % 100,
		       (ARRAY['minipot_telnet', 'minipot_ftp', 'minipot_http', 'minipot_smtp', 'fwlogs']::trap_t[])[1 + ((g * 31) % 5)::int],
		       (ARRAY['connect', 'login', 'small_port_scan', 'message']::action_t[])[1 + ((g * 17) % 4)::int],
		       '100.64.0.0'::inet + a,
		       (ARRAY['CN', 'US', 'RU', 'BR', 'DE', 'IN', 'VN', 'KR'])[1 + a % 8], 64500 + a % 8
		FROM generate_series(0::bigint, $3::bigint - 1) g,
		     -- g * 0 ties the draw to the row: an uncorrelated subquery would be drawn once
		     LATERAL (SELECT floor(pow(random(), 3) * 20000)::int + (g * 0)::int AS a) r`,
		from, span, n)
	require.NoError(b, err)
}

// onAggregate is q's answer from the statement the engine would run for q, on the continuous
// aggregate of the precision the engine reads for q's period.
func onAggregate(b *testing.B, e *Engine, q query.Query) data.Frames {
	w, err := e.Window(context.Background(), q, period.Range{})
	require.NoError(b, err)
	i := slices.IndexFunc(caggs, func(c cagg) bool { return c.precision == w.Source })
	require.GreaterOrEqual(b, i, 0, "no aggregate of precision %s", w.Source)
	return statementAnswer(b, e, q, w, source{table: caggs[i].name, precision: w.Source})
}

// medianPair runs a and c alternately, times times each, and returns their medians: neither
// profits from a buffer cache the other warmed.
func medianPair(times int, a, c func() time.Duration) (time.Duration, time.Duration) {
	var as, cs []time.Duration
	for range times {
		as = append(as, a())
		cs = append(cs, c())
	}
	slices.Sort(as)
	slices.Sort(cs)
	return as[times/2], cs[times/2]
}

// reportSteps reports sview's rollup step of each precision beside the refresh of the aggregate
// of the same precision.
func reportSteps(b *testing.B, steps map[string]time.Duration, refreshed map[period.Precision]time.Duration) {
	for _, c := range caggs {
		ours := steps["rollup:incidents:"+string(c.precision)]
		b.ReportMetric(ms(ours), string(c.precision)+"_sview_ms")
		b.ReportMetric(ms(refreshed[c.precision]), string(c.precision)+"_cagg_ms")
		b.ReportMetric(refreshed[c.precision].Seconds()/ours.Seconds(), string(c.precision)+"_x_faster_than_cagg")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
