//go:build bench

package aggregator

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/demo"
	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/testenv"
)

func benchScale(b *testing.B) float64 {
	s := os.Getenv("SVIEW_BENCH_SCALE")
	if s == "" {
		return 1
	}
	f, err := strconv.ParseFloat(s, 64)
	require.NoError(b, err, "SVIEW_BENCH_SCALE")
	require.Positive(b, f, "SVIEW_BENCH_SCALE")
	return f
}

// generateIncidents writes n incidents spread evenly over [from, from+span) in sessions: 40
// consecutive rows share an attacker, a probe and a trap, as brute-force sessions do.
func generateIncidents(ctx context.Context, b *testing.B, pool *pgxpool.Pool, from time.Time, span time.Duration, n int) {
	_, err := pool.Exec(ctx, `INSERT INTO identity (id, sn, device_token)
		SELECT i, 'p' || i, lpad(to_hex(i), 64, '0') FROM generate_series(1, 1000) i ON CONFLICT DO NOTHING`)
	require.NoError(b, err)
	_, err = pool.Exec(ctx, `
		INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
		SELECT $1::timestamptz + i * ($2::float8 / $3) * interval '1 second', 1,
		       1 + abs(hashint4(s)) % 1000,
		       (enum_range(NULL::trap_t))[1 + abs(hashint4(s * 7)) % 5],
		       (enum_range(NULL::action_t))[1 + abs(hashint4(i)) % 3],
		       ('10.' || abs(hashint4(s * 3)) % 64 || '.' || abs(hashint4(s * 5)) % 250 || '.' || abs(hashint4(s * 11)) % 250)::inet,
		       'CZ', 2852
		FROM generate_series(0, $3 - 1) i, LATERAL (SELECT i / 40 AS s) x`, from, span.Seconds(), n)
	require.NoError(b, err)
	_, err = pool.Exec(ctx, "ANALYZE incidents")
	require.NoError(b, err)
}

// floorTimes times the least work any rollup can do: one plain INSERT … SELECT … GROUP BY per
// precision over the whole range [from, to), into scratch tables shaped like the rollups
// (quarterly from raw, hourly from that, daily from that).
func floorTimes(ctx context.Context, b *testing.B, pool *pgxpool.Pool, from, to time.Time) (quarterly, all time.Duration) {
	src := "incidents"
	for i, p := range derived.Rollups {
		dst := "floor_" + string(p)
		_, err := pool.Exec(ctx, "DROP TABLE IF EXISTS "+dst)
		require.NoError(b, err)
		_, err = pool.Exec(ctx, "CREATE TABLE "+dst+" (LIKE "+tableOf(derived.Incidents, p)+" INCLUDING ALL)")
		require.NoError(b, err)
		start := time.Now()
		_, err = pool.Exec(ctx, `
			INSERT INTO `+dst+` (time, identity_id, trap, action, ip, country, asn, raw_count)
			SELECT date_bin('`+strconv.Itoa(int(bucket(p).Seconds()))+` seconds', time, `+origin+`), identity_id, trap, action, ip, country, asn, sum(raw_count)
			FROM `+src+` WHERE time >= $1 AND time < $2
			GROUP BY 1, 2, 3, 4, 5, 6, 7`, from, to)
		require.NoError(b, err)
		all += time.Since(start)
		if i == 0 {
			quarterly = all
		}
		src = dst
	}
	return quarterly, all
}

// BenchmarkBackfill: backfill of one day of incidents (1M raw rows at scale 1, above the real
// network's 0.7M a day) through every precision, next to the floor measured in the same run.
func BenchmarkBackfill(b *testing.B) {
	ctx := context.Background()
	pool := testenv.Pool(b)
	n := int(1_000_000 * benchScale(b))
	from := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)
	generateIncidents(ctx, b, pool, from, 24*time.Hour, n)
	b.Logf("%d raw incidents over %s..%s", n, from.Format(time.RFC3339), to.Format(time.RFC3339))
	c := &clock{}
	c.Set(to.Add(2 * time.Hour))
	m := newManager(b, pool, c, Config{})

	var floorQ, floorAll, quarterly, all time.Duration
	for b.Loop() {
		floorQ, floorAll = floorTimes(ctx, b, pool, from, to)
		_, err := pool.Exec(ctx, `TRUNCATE incidents_quarterly, incidents_hourly, incidents_daily, incidents_quarterly_totals,
			incidents_hourly_totals, incidents_daily_totals, rollup_watermarks, rollup_invalidations, backfill_progress`)
		require.NoError(b, err)
		start := time.Now()
		require.NoError(b, m.Backfill(ctx, from, to, func(p BackfillProgress) {
			switch {
			case p.Table == "incidents" && p.Precision == "quarterly":
				quarterly = time.Since(start)
			case p.Table == "incidents" && p.Precision == "daily":
				all = time.Since(start)
			}
		}))
		// The floor again, after the backfill warmed the same pages; the faster one counts.
		q, a := floorTimes(ctx, b, pool, from, to)
		floorQ, floorAll = min(floorQ, q), min(floorAll, a)
	}
	rate := func(d time.Duration) float64 { return float64(n) / d.Seconds() }
	b.ReportMetric(rate(all), "rows/s")
	b.ReportMetric(rate(floorAll), "floor_rows/s")
	b.ReportMetric(rate(all)/rate(floorAll), "x_floor")
	b.ReportMetric(rate(quarterly), "quarterly_rows/s")
	b.ReportMetric(rate(floorQ), "quarterly_floor_rows/s")
	b.ReportMetric(rate(quarterly)/rate(floorQ), "quarterly_x_floor")
}

// BenchmarkWindow: one 15-minute window at 10M incidents a day (104k raw rows at scale 1)
// closed through quarterly, hourly and daily, with the three quarters before it already closed:
// the last quarter of a day, so the hour and the day close with it (the worst case; the hourly
// step rewrites the whole hour from its four quarters, the daily step the whole day from 23
// hours and four quarters). The 23 hours before hold hourly rows shaped like the last one, so
// the day's rewrite reads a whole day. Only incidents hold data. The window runs as the daemon
// runs it (quarterly, then hourly and daily side by side); the same window with the three
// steps one after another is the baseline of the same run.
func BenchmarkWindow(b *testing.B) {
	ctx := context.Background()
	pool := testenv.Pool(b)
	perQuarter := int(10_000_000 / 96 * benchScale(b))
	hour := time.Date(2024, 5, 1, 23, 0, 0, 0, time.UTC)
	day := period.Floor(hour, 24*time.Hour)
	generateIncidents(ctx, b, pool, hour, time.Hour, 4*perQuarter)
	b.Logf("%d raw incidents per quarter hour, window %s..%s", perQuarter, hour.Add(45*time.Minute).Format(time.RFC3339), hour.Add(time.Hour).Format(time.RFC3339))
	c := &clock{}
	m := newManager(b, pool, c, Config{})
	prepare := func() {
		prepareDay(ctx, b, pool, hour)
		c.Set(hour.Add(45*time.Minute + DefaultGrace))
		require.NoError(b, m.CatchUp(ctx, "quarterly")) // the hour's first three quarters
		c.Set(hour.Add(time.Hour + DefaultGrace))
	}

	steps := map[period.Precision]time.Duration{}
	var total, sequential time.Duration
	for b.Loop() {
		b.StopTimer()
		prepare()
		start := time.Now()
		for _, p := range derived.Rollups {
			_, err := m.runStep(ctx, key("incidents", p), stepOptions{})
			require.NoError(b, err)
		}
		sequential = time.Since(start)
		prepare()
		b.StartTimer()
		start = time.Now()
		_, err := m.runStep(ctx, key("incidents", "quarterly"), stepOptions{})
		require.NoError(b, err)
		steps["quarterly"] = time.Since(start)
		var mu sync.Mutex
		parallel := time.Now()
		require.NoError(b, m.catchUp(ctx, "hourly", stepOptions{progress: func(bt Batch) {
			if bt.Table == "incidents" {
				mu.Lock()
				steps[bt.Precision] = time.Since(parallel) // from the start of the pair to the commit
				mu.Unlock()
			}
		}}))
		total = time.Since(start)
	}
	s, err := rollupstate.Watermarks(ctx, pool)
	require.NoError(b, err)
	for _, w := range s {
		want := hour.Add(time.Hour)
		if w.Precision == "daily" {
			want = day.Add(24 * time.Hour)
		}
		require.Equal(b, want, w.Watermark.UTC(), "%s %s closed", w.Table, w.Precision)
	}
	var n int64
	require.NoError(b, pool.QueryRow(ctx, "SELECT sum(raw_count) FROM incidents_daily_totals WHERE time = $1", day).Scan(&n))
	require.Equal(b, int64(24*4*perQuarter), n, "the day holds its 24 hours")
	var pending int
	require.NoError(b, pool.QueryRow(ctx, "SELECT count(*) FROM rollup_invalidations").Scan(&pending))
	require.Zero(b, pending, "closing the window leaves nothing to recompute")
	b.ReportMetric(float64(total.Milliseconds()), "window_ms")
	for p, d := range steps {
		b.ReportMetric(float64(d.Milliseconds()), string(p)+"_ms")
	}
	b.ReportMetric(float64(sequential.Milliseconds()), "sequential_ms")
	b.ReportMetric(sequential.Seconds()/total.Seconds(), "x_faster_than_sequential")
	b.ReportMetric(float64(perQuarter)/total.Seconds(), "rows/s")
	// What the narrow twins add to the window: their statements of the three steps run again
	// (they are idempotent) over the same ranges.
	start := time.Now()
	for _, r := range []struct {
		precision period.Precision
		from, to  time.Time
	}{{"quarterly", hour.Add(45 * time.Minute), hour.Add(time.Hour)}, {"hourly", hour, hour.Add(time.Hour)}, {"daily", day, day.Add(24 * time.Hour)}} {
		del := fmt.Sprintf("DELETE FROM %s WHERE time >= $1 AND time < $2", totalsOf("incidents", r.precision))
		totals, _ := derived.Find(derived.Totals, derived.Incidents)
		ins := totalsInsert(totals, r.precision, tableOf("incidents", r.precision)+" WHERE time >= $1 AND time < $2")
		for _, sql := range []string{del, ins} {
			_, err := pool.Exec(ctx, sql, r.from, r.to)
			require.NoError(b, err)
		}
	}
	twins := time.Since(start)
	b.ReportMetric(float64(twins.Milliseconds()), "totals_ms")
	b.ReportMetric(twins.Seconds()/total.Seconds(), "totals_share")
	// What the twin job does after the window, outside it: the ranked twins (by ip) of the
	// hour and the day the window closed.
	start = time.Now()
	res, err := m.BuildTwins(ctx, TwinOptions{From: hour, To: hour.Add(time.Hour)})
	require.NoError(b, err)
	require.Equal(b, 2, res.Built, "the hour and the day")
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "twin_job_ms")
}

// prepareDay empties the rollups and gives the 23 hours before hour hourly rows (and their
// totals) copied from the raw rows of hour, with the hourly watermark at hour and the daily
// one at the start of the day.
func prepareDay(ctx context.Context, b *testing.B, pool *pgxpool.Pool, hour time.Time) {
	for _, st := range []struct {
		sql  string
		args []any
	}{
		{`TRUNCATE incidents_quarterly, incidents_hourly, incidents_daily, incidents_quarterly_totals, incidents_hourly_totals,
			incidents_daily_totals, rollup_watermarks, rollup_invalidations`, nil},
		{`WITH h AS (SELECT sum(raw_count) AS raw_count, identity_id, trap, action, ip, country, asn
			FROM incidents GROUP BY 2, 3, 4, 5, 6, 7)
		INSERT INTO incidents_hourly (time, raw_count, identity_id, trap, action, ip, country, asn)
		SELECT $1::timestamptz - k * interval '1 hour', raw_count, identity_id, trap, action, ip, country, asn
		FROM h, generate_series(1, 23) k`, []any{hour}},
		{`INSERT INTO incidents_hourly_totals (time, raw_count, trap, action, country, asn)
		SELECT time, sum(raw_count), trap, action, country, asn FROM incidents_hourly GROUP BY 1, 3, 4, 5, 6`, nil},
		{`INSERT INTO rollup_watermarks (source, precision, watermark) VALUES ('incidents', 'hourly', $1), ('incidents', 'daily', $2)`,
			[]any{hour, period.Floor(hour, 24*time.Hour)}},
		{"ANALYZE", nil},
	} {
		_, err := pool.Exec(ctx, st.sql, st.args...)
		require.NoError(b, err, st.sql)
	}
}

// BenchmarkLiveLag runs demo.Live at 200 incidents/s beside a Manager (`sview run`) for two
// minutes (scaled; at full size until past the next quarterly tick, up to 17 minutes) and
// samples every second how long the window after the quarterly watermark has been closable
// without being closed (max_overdue_s; ≤ 0 when on time, target < 60) and the plain lag, now
// minus the watermark (at most 15 minutes + grace when on time).
func BenchmarkLiveLag(b *testing.B) {
	ctx := context.Background()
	pool := testenv.Pool(b)
	duration := time.Duration(float64(2*time.Minute) * benchScale(b))
	if benchScale(b) >= 1 {
		// At full size, run past the next quarterly tick so a window closes under load.
		tick := period.Floor(time.Now().Add(-DefaultGrace), 15*time.Minute).Add(15*time.Minute + DefaultGrace + 30*time.Second)
		duration = max(duration, time.Until(tick))
	}
	b.Logf("demo live at 200 incidents/s for %s", duration.Round(time.Second))
	var maxOverdue, maxLag time.Duration
	for b.Loop() {
		runCtx, cancel := context.WithTimeout(ctx, duration)
		m, err := New(pool, Config{})
		require.NoError(b, err)
		done := make(chan error, 2)
		go func() { _, err := demo.Live(runCtx, pool, demo.LiveOptions{Rate: 200, Seed: 1}); done <- err }()
		// The daemon starts once traffic flows, so its start-up pass has windows to close.
		require.Eventually(b, func() bool {
			var n int
			return pool.QueryRow(ctx, "SELECT count(*) FROM incidents").Scan(&n) == nil && n > 0
		}, 30*time.Second, 100*time.Millisecond)
		// Half an hour of history, so the start-up pass closes windows and sets the watermark.
		_, err = pool.Exec(ctx, `
			INSERT INTO incidents (time, identity_id, trap, action, ip)
			SELECT now() - interval '10 seconds' * n, i.identity_id, i.trap, i.action, i.ip
			FROM generate_series(1, 180) n, (SELECT identity_id, trap, action, ip FROM incidents LIMIT 1) i`)
		require.NoError(b, err)
		go func() { done <- m.Run(runCtx) }()
		tick := time.NewTicker(time.Second)
		samples := 0
		var lastMark time.Time
		for runCtx.Err() == nil {
			select {
			case <-tick.C:
			case <-runCtx.Done():
				continue
			}
			wms, err := rollupstate.Watermarks(ctx, pool)
			require.NoError(b, err)
			now := time.Now().UTC()
			for _, w := range wms {
				if w.Table != "incidents" || w.Precision != "quarterly" {
					continue
				}
				samples++
				maxLag = max(maxLag, now.Sub(w.Watermark))
				// The window after the watermark became closable at its end + grace.
				maxOverdue = max(maxOverdue, now.Sub(w.Watermark.Add(15*time.Minute+DefaultGrace)))
				if !w.Watermark.Equal(lastMark) {
					b.Logf("%s: quarterly watermark of incidents at %s", now.Format(time.TimeOnly), w.Watermark.UTC().Format(time.TimeOnly))
					lastMark = w.Watermark
				}
			}
		}
		tick.Stop()
		cancel()
		require.Positive(b, samples, "the quarterly watermark of incidents never appeared")
		b.Logf("%d samples", samples)
		require.NoError(b, <-done)
		require.NoError(b, <-done)
	}
	b.ReportMetric(maxOverdue.Seconds(), "max_overdue_s")
	b.ReportMetric(maxLag.Seconds(), "max_lag_s")
}

// BenchmarkRetentionByPartition: retention cutting one day of 0.7M incidents (the Sentinel
// volume, at scale 1) off two days, on plain PostgreSQL with the day partitions of migration
// 000070 (the day's partition is dropped) beside the same rows left in the default partition,
// which is what an unpartitioned table does (deletes of 10,000 rows), in the same run.
// partitions_ms is the partitions job moving the two days out of the default partition, which
// only rows of past days waiting there cost (an import of old data); new rows land in theirs.
func BenchmarkRetentionByPartition(b *testing.B) {
	ctx := context.Background()
	perDay := int(700_000 * benchScale(b))
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	ret, err := ParseRetention("incidents=1d")
	require.NoError(b, err)
	c := &clock{}
	c.Set(day.Add(48 * time.Hour))
	setup := func(partition bool) (*Manager, time.Duration) {
		pool := testenv.Pool(b)
		if timescale(ctx, b, pool) {
			b.Fatal("day partitions are plain PostgreSQL's: run this benchmark there")
		}
		generateIncidents(ctx, b, pool, day, 48*time.Hour, 2*perDay)
		// Retention never cuts above the next precision's watermark: all of it is rolled up.
		_, err := pool.Exec(ctx, "INSERT INTO rollup_watermarks (source, precision, watermark) VALUES ('incidents', 'quarterly', $1)", c.Now())
		require.NoError(b, err)
		m := newManager(b, pool, c, Config{Retention: ret})
		if !partition {
			return m, 0
		}
		start := time.Now()
		moved, err := m.MaintainPartitions(ctx)
		require.NoError(b, err)
		require.Equal(b, int64(2*perDay), moved)
		return m, time.Since(start)
	}
	var dropped, deleted, split time.Duration
	for b.Loop() {
		byPartition, moving := setup(true)
		byRow, _ := setup(false)
		start := time.Now()
		n, err := byPartition.ApplyRetention(ctx)
		require.NoError(b, err)
		require.Zero(b, n, "the day went as a whole partition")
		dropped = time.Since(start)
		start = time.Now()
		n, err = byRow.ApplyRetention(ctx)
		require.NoError(b, err)
		require.Equal(b, int64(perDay), n)
		deleted = time.Since(start)
		split = moving
	}
	b.Logf("%d raw incidents a day over two days; one day cut", perDay)
	b.ReportMetric(float64(dropped.Milliseconds()), "drop_ms")
	b.ReportMetric(float64(deleted.Milliseconds()), "delete_ms")
	b.ReportMetric(deleted.Seconds()/dropped.Seconds(), "x_faster")
	b.ReportMetric(float64(split.Milliseconds()), "partitions_ms")
}
