package aggregator

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/testenv"
)

var day1 = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

// seedIncidents writes one incident per 10 minutes over hours from start.
func seedIncidents(ctx context.Context, t *testing.T, m *Manager, start time.Time, hours int) {
	t.Helper()
	_, err := m.pool.Exec(ctx, `
		INSERT INTO incidents (time, identity_id, trap, action, ip)
		SELECT $1::timestamptz + i * interval '10 minutes', 1 + i % 3, 'minipot_telnet', 'login', ('192.0.2.' || i % 7)::inet
		FROM generate_series(0, $2 * 6 - 1) i`, start, hours)
	require.NoError(t, err)
}

func TestAggregateRangeRecomputesAndInvalidatesUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 3)
	c := &clock{}
	c.Set(day1.Add(50 * time.Hour))
	m := newManager(t, pool, c, Config{})
	seedIncidents(ctx, t, m, day1, 24)
	require.NoError(t, m.CatchUp(ctx, "quarterly"))

	// A prefix table loaded after the fact: recompute one morning at quarterly precision.
	_, err := pool.Exec(ctx, "INSERT INTO geo_prefixes (network, country, asn) VALUES ('192.0.2.0/24', 'NL', 1136)")
	require.NoError(t, err)
	res, err := m.Aggregate(ctx, "quarterly", day1.Add(6*time.Hour), day1.Add(9*time.Hour))
	require.NoError(t, err)
	require.Len(t, res, len(derived.Families))
	require.Equal(t, int64(18), res[0].SourceRows, "3 hours of incidents, one per 10 minutes")

	count := func(q string) int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, q).Scan(&n))
		return n
	}
	require.Equal(t, 12, count("SELECT count(DISTINCT time) FROM incidents_quarterly WHERE country = 'NL'"))
	require.Zero(t, count("SELECT count(*) FROM incidents_hourly WHERE country = 'NL'"), "hourly waits for its own step")
	require.Equal(t, 1, count("SELECT count(*) FROM rollup_invalidations WHERE precision = 'hourly'"))

	require.NoError(t, m.CatchUp(ctx, "hourly"))
	require.Equal(t, 3, count("SELECT count(DISTINCT time) FROM incidents_hourly WHERE country = 'NL'"))
	require.Equal(t, 1, count("SELECT count(DISTINCT time) FROM incidents_daily WHERE country = 'NL'"))
	require.Zero(t, count("SELECT count(*) FROM rollup_invalidations"))
	var total int64
	require.NoError(t, pool.QueryRow(ctx, "SELECT sum(raw_count) FROM incidents_daily").Scan(&total))
	require.Equal(t, int64(144), total, "recomputing never duplicates")
}

func TestRetentionKeepsWhatIsNotRolledUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 3)
	c := &clock{}
	c.Set(day1.Add(30 * time.Hour))
	ret, err := ParseRetention("incidents=1d, incidents_quarterly=12h,incidents_hourly=1h")
	require.NoError(t, err)
	m := newManager(t, pool, c, Config{Retention: ret})
	seedIncidents(ctx, t, m, day1, 30)
	require.NoError(t, m.CatchUp(ctx, "quarterly"))
	// Quarterly closes up to 29:45, hourly up to 29:00, daily up to day 2.

	c.Set(day1.Add(48 * time.Hour))
	_, err = m.ApplyRetention(ctx)
	require.NoError(t, err)
	minTimeOf := func(table string) time.Time {
		var ts time.Time
		require.NoError(t, pool.QueryRow(ctx, "SELECT min(time) FROM "+table).Scan(&ts))
		return ts.UTC()
	}
	// Raw: now-1d = day 2 00:00, below the quarterly watermark (29:45): cut at day 2.
	require.Equal(t, day1.Add(24*time.Hour), minTimeOf("incidents"))
	// Quarterly: now-12h = 36:00, but hourly has only closed 29:00: cut there.
	require.Equal(t, day1.Add(29*time.Hour), minTimeOf("incidents_quarterly"))
	// Hourly: now-1h = 47:00, but daily has only closed day 2 00:00.
	require.Equal(t, day1.Add(24*time.Hour), minTimeOf("incidents_hourly"))
	// The narrow twins are cut with their wide tables.
	require.Equal(t, day1.Add(29*time.Hour), minTimeOf("incidents_quarterly_totals"))
	require.Equal(t, day1.Add(24*time.Hour), minTimeOf("incidents_hourly_totals"))

	// Late rows below a horizon must not rebuild buckets from a source retention has thinned:
	// 23:01 is below the raw horizon (24:00), 28:01 below the quarterly one (29:00).
	_, err = pool.Exec(ctx, `INSERT INTO incidents (time, identity_id, trap, action, ip)
		VALUES ($1, 1, 'fwlogs', 'connect', '192.0.2.1'), ($2, 1, 'fwlogs', 'connect', '192.0.2.1')`,
		day1.Add(23*time.Hour+time.Minute), day1.Add(28*time.Hour+time.Minute))
	require.NoError(t, err)
	require.NoError(t, m.CatchUp(ctx, "quarterly"))
	hourTotal := func(h int) int64 {
		var n int64
		require.NoError(t, pool.QueryRow(ctx, "SELECT coalesce(sum(raw_count), 0) FROM incidents_hourly WHERE time = $1",
			day1.Add(time.Duration(h)*time.Hour)).Scan(&n))
		return n
	}
	require.Equal(t, int64(0), hourTotal(23), "hourly 23:00 was removed by its own retention")
	require.Equal(t, int64(6), hourTotal(28), "hourly 28:00 is kept as it was, not rebuilt from one quarter")
	var pending int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM rollup_invalidations").Scan(&pending))
	require.Zero(t, pending)

	_, err = ParseRetention("incidents_weekly=1d")
	require.ErrorContains(t, err, `retention table "incidents_weekly"`)
	_, err = ParseRetention("incidents=-1d")
	require.ErrorContains(t, err, "must be positive")
	_, err = ParseRetention("incidents")
	require.ErrorContains(t, err, "want TABLE=DURATION")
}

// A reader whose transaction stays open holds its share lock on the raw chunks it read, which
// TimescaleDB's drop_chunks must wait for: retention then deletes the same rows beside it,
// instead of stalling, and every query queued behind it, until the reader ends.
func TestRetentionBesideALongReader(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, m := fourDaysRolledUp(ctx, t, "incidents=2d")

	reader, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer reader.Rollback(ctx) //nolint:errcheck // ends the reader
	var rows int
	require.NoError(t, reader.QueryRow(ctx, "SELECT count(*) FROM incidents").Scan(&rows))

	done := make(chan error, 1)
	go func() { _, err := m.ApplyRetention(ctx); done <- err }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("retention waits for the reader")
	}
	var first time.Time
	require.NoError(t, pool.QueryRow(ctx, "SELECT min(time) FROM incidents").Scan(&first))
	require.Equal(t, day1.Add(2*24*time.Hour), first.UTC(), "cut at now − 2 days while the reader reads")
}

func TestBackfillResumesAfterInterruption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 3)
	c := &clock{}
	c.Set(day1.Add(4 * 24 * time.Hour))
	m := newManager(t, pool, c, Config{Batch: map[period.Precision]time.Duration{"quarterly": 2 * time.Hour, "hourly": 6 * time.Hour}})
	seedIncidents(ctx, t, m, day1, 72)

	// Interrupted at its third batch.
	ictx, cancel := context.WithCancel(ctx)
	var batches int
	err := m.Backfill(ictx, day1, day1.Add(72*time.Hour), func(p BackfillProgress) {
		if batches++; batches == 3 {
			cancel()
		}
	})
	cancel()
	require.ErrorIs(t, err, context.Canceled)
	var stored int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM backfill_progress WHERE done_until > range_from").Scan(&stored))
	require.Positive(t, stored, "progress is kept for the next run")

	var last BackfillProgress
	require.NoError(t, m.Backfill(ctx, day1, day1.Add(72*time.Hour), func(p BackfillProgress) { last = p }))
	require.InDelta(t, 1.0, last.Fraction, 0.001)
	require.Positive(t, last.RowsPerSecond)
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM backfill_progress").Scan(&stored))
	require.Zero(t, stored)
	for _, p := range derived.Rollups {
		require.Equal(t, oracle(ctx, t, pool, "incidents", p), rollupRows(ctx, t, pool, "incidents", p), p)
		require.Equal(t, totalsOracle(ctx, t, pool, "incidents", p), totalsRows(ctx, t, pool, totalsOf("incidents", p)), p)
	}
}

func TestRunCatchesUpAndStops(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 3)
	c := &clock{}
	c.Set(day1.Add(26 * time.Hour))
	var warmed, warmedBeforeTwins atomic.Int32
	var jobRuns atomic.Int32
	m := newManager(t, pool, c, Config{
		OnRollup: func(ctx context.Context, table derived.Family, precision period.Precision, from, to time.Time) {
			warmed.Add(1)
			if len(listedTwins(ctx, t, pool, "incidents", "hourly")) < 25 {
				warmedBeforeTwins.Add(1)
			}
		},
		Jobs: []Job{{Name: "greylist", Schedule: "* * * * * *", Run: func(ctx context.Context) (int64, error) {
			jobRuns.Add(1)
			return 7, nil
		}}},
	})
	seedIncidents(ctx, t, m, day1, 25)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	require.Eventually(t, func() bool { return jobRuns.Load() > 0 }, 10*time.Second, 50*time.Millisecond)
	cancel()
	require.NoError(t, <-done)

	s, err := rollupstate.Read(context.Background(), pool)
	require.NoError(t, err)
	require.Len(t, s.Watermarks, 3, "the start-up pass closed every precision of incidents (the other tables are empty)")
	require.Equal(t, day1.Add(25*time.Hour+45*time.Minute), s.Watermarks[0].Watermark.UTC())
	require.Equal(t, int32(3), warmed.Load(), "one hook call per step that wrote incidents")
	require.Zero(t, warmedBeforeTwins.Load(), "the hook runs once the twin job has built what the steps closed")
	jobs := map[string]rollupstate.JobRun{}
	for _, j := range s.Jobs {
		jobs[j.Job] = j
	}
	require.True(t, jobs["greylist"].OK)
	require.Equal(t, int64(7), jobs["greylist"].Rows)
	require.Equal(t, int64(25*6), jobs["rollup:incidents:quarterly"].Rows)
	require.True(t, jobs["twins"].OK)
	require.Equal(t, int64(25+1), jobs["twins"].Rows, "the start-up pass built the twins of 25 closed hours and a day")
	lags, err := TwinStatus(context.Background(), pool)
	require.NoError(t, err)
	require.Equal(t, []TwinLag{{Key: key("incidents", "hourly"), Closed: 25}, {Key: key("incidents", "daily"), Closed: 1}}, lags)
	require.Empty(t, s.Locks, "no lock outlives a stopped aggregator")
}

func TestScheduleSpecsParse(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t)
	for _, grace := range []time.Duration{time.Second, DefaultGrace, 17*time.Minute + 30*time.Second, 2 * time.Hour} {
		m, err := New(pool, Config{Grace: grace})
		require.NoError(t, err)
		p := cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)
		for name, e := range m.schedule() {
			_, err := p.Parse(e.spec)
			require.NoError(t, err, "grace %s: %s spec %q", grace, name, e.spec)
		}
	}
	_, err := New(pool, Config{Grace: -time.Second})
	require.ErrorContains(t, err, "must not be negative")
	_, err = New(pool, Config{TwinBudget: -time.Second})
	require.ErrorContains(t, err, "twin budget -1s: must not be negative")
	_, err = New(pool, Config{Jobs: []Job{{Name: "x", Run: func(context.Context) (int64, error) { return 0, nil }}, {Name: "x", Run: func(context.Context) (int64, error) { return 0, nil }}}})
	require.ErrorContains(t, err, `job "x": defined twice`)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 3)
	c := &clock{}
	c.Set(day1.Add(2 * time.Hour))
	m := newManager(t, pool, c, Config{})
	seedIncidents(ctx, t, m, day1, 1)
	require.NoError(t, m.CatchUp(ctx, "quarterly"))
	_, err := pool.Exec(ctx, "INSERT INTO incidents (time, identity_id, trap, action, ip) VALUES ($1, 1, 'fwlogs', 'connect', '192.0.2.1')", day1)
	require.NoError(t, err)

	rec := httptest.NewRecorder()
	m.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	require.Equal(t, 200, rec.Code)
	require.Contains(t, body, `sview_rollup_rows_total{precision="quarterly",table="incidents"} 6`)
	require.Contains(t, body, `sview_rollup_lag_seconds{precision="hourly",table="incidents"}`)
	require.Contains(t, body, `sview_rollup_invalidations_pending{precision="quarterly",table="incidents"} 1`)
	require.Contains(t, body, `sview_job_duration_seconds_count{job="rollup:incidents:quarterly"} 1`)
}

// TestDailyClosesAheadOfHourly: daily closes a day from quarterly rows before the hourly step
// has run, a late row in that day invalidates daily directly (hourly had not read it), and the
// hourly step closing the same hours afterwards invalidates nothing.
func TestDailyClosesAheadOfHourly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 3)
	c := &clock{}
	c.Set(day1.Add(26 * time.Hour))
	m := newManager(t, pool, c, Config{})
	seedIncidents(ctx, t, m, day1, 25)
	count := func(q string) int64 {
		var n int64
		require.NoError(t, pool.QueryRow(ctx, q).Scan(&n))
		return n
	}
	step := func(precision period.Precision) StepResult {
		res, err := m.runStep(ctx, key("incidents", precision), stepOptions{})
		require.NoError(t, err)
		return res
	}

	step("quarterly")
	require.Equal(t, 1, step("daily").Batches, "the day closes on the quarterly watermark alone")
	require.Equal(t, int64(144), count("SELECT sum(raw_count) FROM incidents_daily"))
	require.Zero(t, count("SELECT count(*) FROM incidents_hourly"))

	_, err := pool.Exec(ctx, `INSERT INTO incidents (time, identity_id, trap, action, ip) VALUES
		($1, 1, 'minipot_telnet', 'login', '192.0.2.1')`, day1.Add(10*time.Hour+time.Minute))
	require.NoError(t, err)
	require.True(t, step("quarterly").Late)
	require.Equal(t, int64(1), count("SELECT count(*) FROM rollup_invalidations WHERE precision = 'daily'"),
		"daily read those quarters itself, so the quarterly recomputation invalidates it")

	step("hourly")
	require.Equal(t, int64(1), count("SELECT count(*) FROM rollup_invalidations WHERE precision = 'daily'"),
		"closing new hours changes nothing daily has read")
	require.True(t, step("daily").Late)
	require.Zero(t, count("SELECT count(*) FROM rollup_invalidations"))
	require.Equal(t, int64(145), count("SELECT sum(raw_count) FROM incidents_daily WHERE time = '2024-05-01'"))
	require.Equal(t, int64(145), count("SELECT sum(raw_count) FROM incidents_hourly WHERE time < '2024-05-02'"))
}

// TestGapsAndBackfillsAreRecorded: the first catch-up records nothing (its windows were never
// due); windows closed after an outage are a gap over exactly the overdue windows; a step on
// time records nothing; a backfill records its range.
func TestGapsAndBackfillsAreRecorded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 3)
	c := &clock{}
	c.Set(day1.Add(26 * time.Hour))
	m := newManager(t, pool, c, Config{})
	seedIncidents(ctx, t, m, day1, 30)
	events := func() []rollupstate.Event {
		t.Helper()
		ev, err := rollupstate.Events(ctx, pool, day1, day1.Add(72*time.Hour), 100)
		require.NoError(t, err)
		return ev
	}
	require.NoError(t, m.CatchUp(ctx, "quarterly"))
	require.Empty(t, events(), "the first catch-up closes history, not a gap")

	// Down for four hours: every window that ended more than grace + margin (18 min) before
	// 30:00 was closed late.
	c.Set(day1.Add(30 * time.Hour))
	require.NoError(t, m.CatchUp(ctx, "quarterly"))
	got := map[period.Precision]rollupstate.Event{}
	for _, e := range events() {
		require.Equal(t, rollupstate.EventGap, e.Kind)
		require.Equal(t, derived.Incidents, e.Table)
		got[e.Precision] = e
	}
	require.Len(t, got, 2, "quarterly and hourly closed late; no daily window was due")
	require.Equal(t, day1.Add(25*time.Hour+45*time.Minute), got[period.Quarterly].From)
	require.Equal(t, day1.Add(29*time.Hour+30*time.Minute), got[period.Quarterly].To, "29:30–29:45 ended 15 min ago: on time")
	require.Equal(t, day1.Add(25*time.Hour), got[period.Hourly].From)
	require.Equal(t, day1.Add(29*time.Hour), got[period.Hourly].To, "28:00–29:00 ended an hour ago: late")
	require.Positive(t, got[period.Quarterly].Rows)

	// On time: the next quarter closed 5 minutes after its end.
	c.Set(day1.Add(30*time.Hour + 5*time.Minute))
	require.NoError(t, m.CatchUp(ctx, "quarterly"))
	require.Len(t, events(), 2)

	require.NoError(t, m.Backfill(ctx, day1, day1.Add(24*time.Hour), nil))
	ev := events()
	require.Len(t, ev, 3)
	require.Equal(t, rollupstate.Event{Kind: rollupstate.EventBackfill, From: day1, To: day1.Add(24 * time.Hour),
		StartedAt: ev[0].StartedAt, FinishedAt: ev[0].FinishedAt, Rows: 24 * 6}, ev[0], "oldest first: the backfill starts at day1")
}
