package aggregator

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/testenv"
	"github.com/sview-project/sview/internal/twin"
)

// twinOracle computes what a twin must hold: its wide rollup grouped by the twin's key, ranked
// inside each bucket by count (highest first), then by key.
func twinOracle(ctx context.Context, t *testing.T, pool *pgxpool.Pool, tw derived.Table, precision period.Precision) []string {
	keys := strings.Join(tw.Keys, ", ")
	return textRows(ctx, t, pool, fmt.Sprintf(`
		SELECT time, %[1]s, n, row_number() OVER (PARTITION BY time ORDER BY n DESC, %[1]s)
		FROM (SELECT time, %[1]s, sum(raw_count)::bigint AS n FROM %[2]s GROUP BY time, %[1]s) g`,
		keys, tableOf(tw.Family, precision)))
}

func twinRows(ctx context.Context, t *testing.T, pool *pgxpool.Pool, tw derived.Table, precision period.Precision) []string {
	return textRows(ctx, t, pool, fmt.Sprintf("SELECT time, %s, raw_count, rank FROM %s",
		strings.Join(tw.Keys, ", "), tw.Name(precision)))
}

// sightingsOracle computes what the sightings must hold, another way than the twin job: the
// previous sighting of each address from a window function over the whole wide rollup.
func sightingsOracle(ctx context.Context, t *testing.T, pool *pgxpool.Pool, precision period.Precision) []string {
	return textRows(ctx, t, pool, fmt.Sprintf(`
		WITH seen AS (SELECT DISTINCT time, ip, country FROM %[1]s),
		apart AS (
			SELECT time, true AS by_country, country, time - lag(time) OVER (PARTITION BY ip, country ORDER BY time) AS d FROM seen
			UNION ALL
			SELECT time, false, NULL, time - lag(time) OVER (PARTITION BY ip ORDER BY time) FROM (SELECT DISTINCT time, ip FROM seen) a)
		SELECT time, by_country, country,
			CASE WHEN d IS NULL OR d > %[2]d * interval '1 second' THEN %[3]d ELSE extract(epoch FROM d)::int / %[4]d END, count(*)
		FROM apart GROUP BY 1, 2, 3, 4`,
		tableOf("incidents", precision), int(twin.Sightings.Span(precision).Seconds()), twin.Sightings.NoGap(precision),
		int(bucket(precision).Seconds())))
}

// listedTwins returns the buckets twin_buckets lists for a (table, precision).
func listedTwins(ctx context.Context, t *testing.T, pool *pgxpool.Pool, table derived.Family, precision period.Precision) []string {
	return textRows(ctx, t, pool, "SELECT time FROM twin_buckets WHERE source = $1 AND precision = $2", table, precision)
}

// requireTwinsCurrent checks that the twins of every listed bucket equal the GROUP BY of its
// wide rollup as it is now.
func requireTwinsCurrent(ctx context.Context, t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for _, tw := range rankedTwins() {
		for _, p := range derived.TwinPrecisions() {
			listed := map[string]bool{}
			for _, b := range listedTwins(ctx, t, pool, tw.Family, p) {
				listed[b] = true
			}
			inListed := func(rows []string) []string {
				var out []string
				for _, r := range rows {
					if at, _, _ := strings.Cut(r, " "); listed[at] {
						out = append(out, r)
					}
				}
				return out
			}
			require.Equal(t, inListed(twinOracle(ctx, t, pool, tw, p)), inListed(twinRows(ctx, t, pool, tw, p)),
				"%s differs from a GROUP BY of %s in buckets twin_buckets lists", tw.Name(p), tableOf(tw.Family, p))
			if tw.Family == twin.Sightings.Family() {
				// Sightings built before retention cut the rollup remember sightings older than
				// what it holds; for every window it can still answer those count like none.
				got := textRows(ctx, t, pool, fmt.Sprintf(`
					SELECT time, by_country, country, gap, sum(attackers)::bigint FROM (
						SELECT time, by_country, country, attackers, CASE
							WHEN time - gap * interval '%[1]d seconds' < (SELECT min(time) FROM %[2]s) THEN %[3]d ELSE gap END AS gap
						FROM %[4]s) s
					GROUP BY 1, 2, 3, 4`, int(bucket(p).Seconds()), tableOf(tw.Family, p), twin.Sightings.NoGap(p), twin.Sightings.Table(p)))
				require.Equal(t, inListed(sightingsOracle(ctx, t, pool, p)), inListed(got),
					"%s differs from the sightings of %s in buckets twin_buckets lists", twin.Sightings.Table(p), tableOf(tw.Family, p))
			}
		}
	}
	requireRunningCurrent(ctx, t, pool)
}

// requireRunningCurrent checks that every row of running totals sums the wide ports rollup
// from its origin through its bucket, over buckets twin_buckets all lists.
func requireRunningCurrent(ctx context.Context, t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for _, p := range derived.TwinPrecisions() {
		rows, err := pool.Query(ctx, "SELECT time FROM "+twin.Running.Table(p))
		require.NoError(t, err)
		times, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
		require.NoError(t, err)
		for _, at := range times {
			row, ok, err := twin.Running.ReadRow(ctx, pool, p, at.Add(time.Second))
			require.NoError(t, err)
			require.True(t, ok)
			var got []string
			for i, k := range row.Totals.Keys {
				got = append(got, fmt.Sprintf("%s/%s %d", k.Texts()[0], k.Texts()[1], row.Totals.Counts[i]))
			}
			want := textRows(ctx, t, pool, fmt.Sprintf(`SELECT protocol::text || '/' || port, sum(raw_count)::bigint FROM %s
				WHERE time >= $1 AND time <= $2 GROUP BY protocol, port HAVING sum(raw_count) <> 0`,
				tableOf("ports", p)), row.Origin, row.Time)
			slices.Sort(got)
			require.Equal(t, want, got, "%s at %s (from %s)", twin.Running.Table(p), row.Time, row.Origin)
			var unlisted int
			require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM generate_series($1::timestamptz, $2::timestamptz, $3::interval) b
				WHERE NOT EXISTS (SELECT 1 FROM twin_buckets WHERE source = 'ports' AND precision = $4 AND time = b)`,
				row.Origin, row.Time, bucket(p), p).Scan(&unlisted))
			require.Zero(t, unlisted, "%s at %s sums buckets twin_buckets does not list", twin.Running.Table(p), row.Time)
		}
	}
}

// requireTwinsComplete checks that twin_buckets lists exactly the closed buckets, from the first
// the wide rollup holds to the watermark, and that their twins are current.
func requireTwinsComplete(ctx context.Context, t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for _, table := range derived.Families {
		for _, p := range derived.TwinPrecisions() {
			if !derived.TwinsAt(table, p) {
				continue
			}
			closed := textRows(ctx, t, pool, fmt.Sprintf(`
				SELECT b FROM rollup_watermarks w,
					generate_series((SELECT min(time) FROM %s), w.watermark - interval '%d seconds', interval '%d seconds') b
				WHERE w.source = $1 AND w.precision = $2`, tableOf(table, p), int(bucket(p).Seconds()), int(bucket(p).Seconds())),
				table, p)
			require.Equal(t, closed, listedTwins(ctx, t, pool, table, p), "buckets listed for %s %s", table, p)
		}
	}
	requireTwinsCurrent(ctx, t, pool)
}

// twinLags indexes TwinStatus by "table precision".
func twinLags(ctx context.Context, t *testing.T, pool *pgxpool.Pool) map[string]TwinLag {
	t.Helper()
	lags, err := TwinStatus(ctx, pool)
	require.NoError(t, err)
	out := map[string]TwinLag{}
	for _, l := range lags {
		out[l.String()] = l
	}
	return out
}

// TestTwinsMatchTheirRollups: after rolling up random rows, the twin job lists every closed
// bucket and its twins equal the GROUP BY of the wide rollup; late rows unlist the buckets
// they change, and the next run rebuilds just those.
func TestTwinsMatchTheirRollups(t *testing.T) {
	t.Parallel()
	rng := testRand(t)
	ctx := context.Background()
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 6)
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	c := &clock{}
	c.Set(base.Add(3 * 24 * time.Hour))
	m := newManager(t, pool, c, Config{})
	insertArrivals(ctx, t, pool, randomRows(rng, base, 2), rng)
	require.NoError(t, m.CatchUp(ctx, "quarterly"))

	var closed int64
	lags := twinLags(ctx, t, pool)
	var twinned int
	for _, f := range derived.Families {
		for _, p := range derived.TwinPrecisions() {
			if derived.TwinsAt(f, p) {
				twinned++
			}
		}
	}
	require.Len(t, lags, twinned, "every table with twins has closed hours and days")
	for key, l := range lags {
		require.Positive(t, l.Closed, key)
		require.Equal(t, l.Closed, l.Pending, "%s: nothing built yet", key)
		closed += l.Closed
	}
	var progress []TwinProgress
	res, err := m.BuildTwins(ctx, TwinOptions{Progress: func(p TwinProgress) { progress = append(progress, p) }})
	require.NoError(t, err)
	// The running totals of ports sum every closed hour and day (all within their span).
	running := int(lags["ports hourly"].Closed + lags["ports daily"].Closed)
	require.Equal(t, TwinResult{Built: int(closed), Running: running}, res)
	require.Len(t, progress, int(closed)+running)
	// Hourly closed up to 71:00 (the last day is empty), daily up to day 2.
	require.Equal(t, base.Add(70*time.Hour), progress[0].Bucket, "the newest hour comes first")
	require.Equal(t, "incidents hourly", progress[0].Table+" "+string(progress[0].Precision))
	require.Equal(t, "incidents daily", progress[1].Table+" "+string(progress[1].Precision), "the (table, precision) pairs take turns")
	require.Zero(t, progress[len(progress)-1].Left)
	require.Equal(t, "ports_daily_running", progress[len(progress)-1].Table, "the running totals are extended last")
	requireTwinsComplete(ctx, t, pool)
	for key, l := range twinLags(ctx, t, pool) {
		require.Zero(t, l.Pending, key)
		require.Nil(t, l.NewestPending, key)
	}
	hourly := twinLags(ctx, t, pool)["ports hourly"]
	require.Equal(t, base.Add(time.Duration(hourly.Closed-1)*time.Hour), hourly.RunningThrough.UTC())

	// A late login changes an hour and its day of passwords: both are unlisted at once.
	late := base.Add(5*time.Hour + 7*time.Minute)
	insertRaw(ctx, t, pool, "passwords", [][]string{{late.Format(time.RFC3339), "root", "late", "1", "minipot_telnet", "10.1.2.3", "-", "-", "500"}})
	require.NoError(t, m.CatchUp(ctx, "quarterly"))
	requireTwinsCurrent(ctx, t, pool)
	lags = twinLags(ctx, t, pool)
	for key, l := range lags {
		if strings.HasPrefix(key, "passwords") {
			require.Equal(t, int64(1), l.Pending, key)
		} else {
			require.Zero(t, l.Pending, key)
		}
	}
	require.Equal(t, base.Add(5*time.Hour), lags["passwords hourly"].NewestPending.UTC())
	require.Equal(t, base, lags["passwords daily"].NewestPending.UTC())
	rec := httptest.NewRecorder()
	m.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Contains(t, rec.Body.String(), `sview_twin_buckets_pending{precision="hourly",table="passwords"} 1`)
	require.Contains(t, rec.Body.String(), `sview_twin_buckets_pending{precision="hourly",table="ports"} 0`)
	require.Contains(t, rec.Body.String(), fmt.Sprintf(`sview_twin_buckets_built_total{precision="daily",table="ports"} %d`,
		lags["ports daily"].Closed))

	res, err = m.BuildTwins(ctx, TwinOptions{})
	require.NoError(t, err)
	require.Equal(t, TwinResult{Built: 2}, res)
	requireTwinsComplete(ctx, t, pool)
	var rank int
	require.NoError(t, pool.QueryRow(ctx, "SELECT rank FROM passwords_hourly_by_password WHERE time = $1 AND password = 'late'",
		base.Add(5*time.Hour)).Scan(&rank))
	require.Equal(t, 1, rank, "500 logins lead the hour")

	// A late scan drops the running totals from its hour and day on; the next run sums them
	// again once the twins of those buckets are rebuilt.
	insertRaw(ctx, t, pool, "ports", [][]string{{late.Format(time.RFC3339), "4444", "UDP", "1", "10.1.2.3", "-", "-", "70"}})
	require.NoError(t, m.CatchUp(ctx, "quarterly"))
	requireTwinsCurrent(ctx, t, pool)
	lags = twinLags(ctx, t, pool)
	require.Equal(t, base.Add(4*time.Hour), lags["ports hourly"].RunningThrough.UTC())
	require.Nil(t, lags["ports daily"].RunningThrough, "the first day was rewritten: no row is left")
	res, err = m.BuildTwins(ctx, TwinOptions{})
	require.NoError(t, err)
	require.Equal(t, TwinResult{Built: 2, Running: int(lags["ports hourly"].Closed-5) + int(lags["ports daily"].Closed)}, res)
	requireTwinsComplete(ctx, t, pool)
}

// TestTwinBudgetStopsARun: a run out of time stops after its current bucket and says how many
// are left; the next runs go on from there.
func TestTwinBudgetStopsARun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 3)
	c := &clock{}
	c.Set(day1.Add(10 * time.Hour))
	m := newManager(t, pool, c, Config{})
	seedIncidents(ctx, t, m, day1, 8)
	require.NoError(t, m.CatchUp(ctx, "quarterly"))
	res, err := m.BuildTwins(ctx, TwinOptions{Budget: time.Nanosecond})
	require.NoError(t, err)
	require.Equal(t, TwinResult{Built: 1, Left: 8}, res, "9 closed hours of incidents, no closed day")
	require.Equal(t, []string{day1.Add(8 * time.Hour).Format(time.RFC3339)}, listedTwins(ctx, t, pool, "incidents", "hourly"))
	res, err = m.BuildTwins(ctx, TwinOptions{})
	require.NoError(t, err)
	require.Equal(t, TwinResult{Built: 8}, res)
}

// TestRewriteDuringTwinBuildUnlistsIt: a rollup rewrite of a bucket whose twins are being built
// (after the build read the wide rows for one twin, before it committed) must not leave the
// bucket listed with twins of the old rows.
func TestRewriteDuringTwinBuildUnlistsIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 3)
	c := &clock{}
	c.Set(day1.Add(26 * time.Hour))
	m := newManager(t, pool, c, Config{})
	_, err := pool.Exec(ctx, `
		INSERT INTO passwords (time, username, password, identity_id, trap, ip)
		SELECT $1::timestamptz + i * interval '5 minutes', 'root', 'pw' || i % 5, 1, 'minipot_telnet', '192.0.2.1'
		FROM generate_series(0, 35) i`, day1)
	require.NoError(t, err)
	require.NoError(t, m.CatchUp(ctx, "quarterly"))
	_, err = m.BuildTwins(ctx, TwinOptions{})
	require.NoError(t, err)

	// A late row re-rolls hour 01:00 (unlisting it); a second one reaches the quarters only, so
	// the hourly rewrite is still due while the twin job rebuilds the hour.
	hour := day1.Add(time.Hour)
	lateLogin := func(at time.Time, user string) {
		insertRaw(ctx, t, pool, "passwords", [][]string{{at.Format(time.RFC3339), user, "late", "1", "minipot_telnet", "192.0.2.9", "-", "-", "50"}})
	}
	lateLogin(hour.Add(7*time.Minute), "admin")
	require.NoError(t, m.CatchUp(ctx, "quarterly"))
	lateLogin(hour.Add(8*time.Minute), "guest")
	_, err = m.runStep(ctx, key("passwords", "quarterly"), stepOptions{})
	require.NoError(t, err)

	// Another transaction holds the old by_username rows of the hour, so the build stops there:
	// it has already read the wide rows for by_password.
	blocker, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer blocker.Rollback(ctx) //nolint:errcheck // no-op after commit
	_, err = blocker.Exec(ctx, "SELECT 1 FROM passwords_hourly_by_username WHERE time = $1 FOR UPDATE", hour)
	require.NoError(t, err)
	waiting := func(query string) bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`, query).Scan(&n)
		return err == nil && n > 0
	}
	built := make(chan error, 1)
	go func() {
		_, err := m.BuildTwins(ctx, TwinOptions{From: hour, To: hour.Add(time.Hour)})
		built <- err
	}()
	require.Eventually(t, func() bool { return waiting("DELETE FROM passwords_hourly_by_username %") }, 10*time.Second, 10*time.Millisecond)

	// The hourly rewrite of that hour now runs: it must wait for the build.
	rewritten := make(chan error, 1)
	go func() {
		_, err := m.runStep(ctx, key("passwords", "hourly"), stepOptions{})
		rewritten <- err
	}()
	// The rewrite waits for the input lock the build holds (or, were it not locked out,
	// commits now, between the build's reads).
	require.Eventually(t, func() bool { return len(rewritten) > 0 || waiting("SELECT 1 FROM sview_locks % FOR UPDATE") },
		10*time.Second, 10*time.Millisecond)
	require.NoError(t, blocker.Commit(ctx))
	require.NoError(t, <-built)
	require.NoError(t, <-rewritten)

	requireTwinsCurrent(ctx, t, pool)
	require.NotContains(t, listedTwins(ctx, t, pool, "passwords", "hourly"), hour.Format(time.RFC3339),
		"the rewrite committed after the build and unlisted the hour")
	_, err = m.BuildTwins(ctx, TwinOptions{})
	require.NoError(t, err)
	requireTwinsComplete(ctx, t, pool)
}

// TestRetentionDropsTwins: cutting a rollup cuts its twins and unlists their buckets, and the
// twin job does not build them again.
func TestRetentionDropsTwins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 3)
	c := &clock{}
	c.Set(day1.Add(30 * time.Hour))
	ret, err := ParseRetention("incidents_hourly=1h")
	require.NoError(t, err)
	m := newManager(t, pool, c, Config{Retention: ret})
	seedIncidents(ctx, t, m, day1, 30)
	require.NoError(t, m.CatchUp(ctx, "quarterly"))
	_, err = m.BuildTwins(ctx, TwinOptions{})
	require.NoError(t, err)
	require.Len(t, listedTwins(ctx, t, pool, "incidents", "hourly"), 29)

	// Hourly closed up to 29:00 and daily up to day 2, where the hourly cut stops.
	c.Set(day1.Add(48 * time.Hour))
	_, err = m.ApplyRetention(ctx)
	require.NoError(t, err)
	var first time.Time
	require.NoError(t, pool.QueryRow(ctx, "SELECT min(time) FROM incidents_hourly_by_ip").Scan(&first))
	require.Equal(t, day1.Add(24*time.Hour), first.UTC())
	var hours []string
	for h := 24; h < 29; h++ {
		hours = append(hours, day1.Add(time.Duration(h)*time.Hour).Format(time.RFC3339))
	}
	require.Equal(t, hours, listedTwins(ctx, t, pool, "incidents", "hourly"))
	require.Len(t, listedTwins(ctx, t, pool, "incidents", "daily"), 1, "daily is kept")
	require.Equal(t, TwinLag{Key: key("incidents", "hourly"), Closed: 5}, twinLags(ctx, t, pool)["incidents hourly"])

	idx, err := rollupstate.Index(key("incidents", "hourly"))
	require.NoError(t, err)
	built, err := m.buildTwinBucket(ctx, key("incidents", "hourly"), idx, day1.Add(3*time.Hour))
	require.NoError(t, err)
	require.False(t, built, "a bucket below the retention horizon is not built again")
	require.Len(t, listedTwins(ctx, t, pool, "incidents", "hourly"), 5)
	requireTwinsCurrent(ctx, t, pool)
}

// TestScheduledTickBuildsTwins: each rollup tick of `sview run` builds the twins of what its
// steps closed.
func TestScheduledTickBuildsTwins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 3)
	c := &clock{}
	c.Set(day1.Add(2*time.Hour + 5*time.Minute))
	m := newManager(t, pool, c, Config{})
	seedIncidents(ctx, t, m, day1, 3)
	tick := m.schedule()["quarterly"].fn

	require.NoError(t, tick(ctx))
	require.Equal(t, []string{"2024-05-01T00:00:00Z", "2024-05-01T01:00:00Z"}, listedTwins(ctx, t, pool, "incidents", "hourly"))
	c.Set(day1.Add(3*time.Hour + 5*time.Minute))
	require.NoError(t, tick(ctx))
	require.Len(t, listedTwins(ctx, t, pool, "incidents", "hourly"), 3)
	requireTwinsComplete(ctx, t, pool)
	jobs, err := rollupstate.Jobs(ctx, pool)
	require.NoError(t, err)
	i := slices.IndexFunc(jobs, func(j rollupstate.JobRun) bool { return j.Job == "twins" })
	require.GreaterOrEqual(t, i, 0, "the twin job is recorded")
	require.True(t, jobs[i].OK)
	require.Equal(t, int64(1), jobs[i].Rows, "the second tick built the hour it closed")
}
