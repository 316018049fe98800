package period

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestTable(t *testing.T) {
	want := []struct {
		name     string
		points   int
		bucket   time.Duration
		ttl      time.Duration
		refresh  time.Duration
		source   Precision
		rangeDur time.Duration
	}{
		{"1h", 60, time.Minute, 5 * time.Minute, time.Minute, Raw, time.Hour},
		{"6h", 24, 15 * time.Minute, 25 * time.Minute, 15 * time.Minute, Quarterly, 6 * time.Hour},
		{"1d", 48, 30 * time.Minute, 50 * time.Minute, 30 * time.Minute, Quarterly, 24 * time.Hour},
		{"1w", 56, 3 * time.Hour, 4 * time.Hour, 3 * time.Hour, Hourly, 7 * 24 * time.Hour},
		{"1m", 30, 24 * time.Hour, 25 * time.Hour, 24 * time.Hour, Daily, 30 * 24 * time.Hour},
		{"3m", 45, 48 * time.Hour, 25 * time.Hour, 24 * time.Hour, Daily, 90 * 24 * time.Hour},
		{"1y", 27, 14 * 24 * time.Hour, 25 * time.Hour, 24 * time.Hour, Daily, 378 * 24 * time.Hour},
	}
	require.Equal(t, []string{"1h", "6h", "1d", "1w", "1m", "3m", "1y"}, Names())
	for _, w := range want {
		p, ok := Lookup(w.name)
		require.True(t, ok, w.name)
		require.Equal(t, w.points, p.Points(), w.name)
		require.Equal(t, w.bucket, p.Bucket, w.name)
		require.Equal(t, w.ttl, p.CacheTTL, w.name)
		require.Equal(t, w.refresh, p.Refresh, w.name)
		require.Equal(t, w.source, p.Source, w.name)
		require.Equal(t, w.rangeDur, p.Range, w.name)
	}
	_, ok := Lookup("2h")
	require.False(t, ok)
}

func TestWindow(t *testing.T) {
	now := at("2026-03-18T17:47:31Z")
	cases := []struct {
		period   string
		trim     bool
		from, to string
		until    string
		buckets  int
	}{
		{"1h", true, "2026-03-18T16:47:00Z", "2026-03-18T17:47:00Z", "2026-03-18T17:42:00Z", 55},
		{"1h", false, "2026-03-18T16:47:00Z", "2026-03-18T17:47:00Z", "2026-03-18T17:47:00Z", 60},
		{"6h", true, "2026-03-18T11:45:00Z", "2026-03-18T17:45:00Z", "2026-03-18T17:45:00Z", 24},
		{"1d", true, "2026-03-17T17:30:00Z", "2026-03-18T17:30:00Z", "2026-03-18T17:30:00Z", 48},
		{"1w", true, "2026-03-11T15:00:00Z", "2026-03-18T15:00:00Z", "2026-03-18T15:00:00Z", 56},
		{"1m", true, "2026-02-16T00:00:00Z", "2026-03-18T00:00:00Z", "2026-03-18T00:00:00Z", 30},
		{"3m", true, "2025-12-18T00:00:00Z", "2026-03-18T00:00:00Z", "2026-03-18T00:00:00Z", 45},
		{"1y", true, "2025-03-05T00:00:00Z", "2026-03-18T00:00:00Z", "2026-03-18T00:00:00Z", 27},
	}
	for _, c := range cases {
		t.Run(c.period, func(t *testing.T) {
			p, _ := Lookup(c.period)
			w := p.Window(now, c.trim)
			require.Equal(t, at(c.from), w.From)
			require.Equal(t, at(c.to), w.To)
			require.Equal(t, at(c.until), w.Until)
			b := w.Buckets()
			require.Len(t, b, c.buckets)
			require.Equal(t, w.From, b[0])
			require.Equal(t, p.Source, w.Source)
		})
	}
}

func TestWindowInOtherZone(t *testing.T) {
	p, _ := Lookup("1m")
	prague := time.FixedZone("CET", 3600)
	w := p.Window(time.Date(2026, 3, 18, 0, 30, 0, 0, prague), false)
	// 00:30 in Prague is 23:30 UTC of the day before: the window ends at that UTC midnight.
	require.Equal(t, at("2026-03-17T00:00:00Z"), w.To)
}

func TestPlan(t *testing.T) {
	from := at("2026-03-01T10:07:00Z")
	to := at("2026-03-08T10:07:00Z")
	all := Availability{
		Raw: at("2026-02-01T00:00:00Z"), Quarterly: at("2026-01-01T00:00:00Z"),
		Hourly: at("2025-01-01T00:00:00Z"), Daily: at("2024-01-01T00:00:00Z"),
	}
	rawGone := Availability{
		Raw: at("2026-03-05T00:00:00Z"), Quarterly: at("2026-03-04T00:00:00Z"),
		Hourly: at("2025-01-01T00:00:00Z"), Daily: at("2024-01-01T00:00:00Z"),
	}
	cases := []struct {
		name     string
		interval time.Duration
		avail    Availability
		source   Precision
		bucket   time.Duration
		from, to string
	}{
		{"sub-minute interval reads raw by the minute", 10 * time.Second, all, Raw, time.Minute, "2026-03-01T10:07:00Z", "2026-03-08T10:07:00Z"},
		{"7 minutes reads raw", 7 * time.Minute, all, Raw, 7 * time.Minute, "2026-03-01T10:01:00Z", "2026-03-08T10:08:00Z"},
		{"20 minutes rounds to quarterly", 20 * time.Minute, all, Quarterly, 15 * time.Minute, "2026-03-01T10:00:00Z", "2026-03-08T10:15:00Z"},
		{"5 hours rounds to hourly", 5*time.Hour + 10*time.Minute, all, Hourly, 5 * time.Hour, "2026-03-01T08:00:00Z", "2026-03-08T15:00:00Z"},
		{"2 days reads daily", 49 * time.Hour, all, Daily, 48 * time.Hour, "2026-02-28T00:00:00Z", "2026-03-10T00:00:00Z"},
		{"raw retention forces a coarser source", 7 * time.Minute, rawGone, Hourly, time.Hour, "2026-03-01T10:00:00Z", "2026-03-08T11:00:00Z"},
		{"nothing reaches the start: coarsest that fits", 20 * time.Minute, Availability{Raw: at("2026-03-07T00:00:00Z")}, Quarterly, 15 * time.Minute, "2026-03-01T10:00:00Z", "2026-03-08T10:15:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := Plan(Range{From: from, To: to, Interval: c.interval}, c.avail)
			require.NoError(t, err)
			require.Equal(t, c.source, w.Source)
			require.Equal(t, c.bucket, w.Bucket)
			require.Equal(t, at(c.from), w.From)
			require.Equal(t, at(c.to), w.To)
			require.Equal(t, w.To, w.Until)
			require.Zero(t, w.To.Sub(w.From)%w.Bucket)
		})
	}
	_, err := Plan(Range{From: to, To: from, Interval: time.Minute}, all)
	require.ErrorIs(t, err, ErrEmptyRange)
}

func TestAligned(t *testing.T) {
	r := Range{From: at("2026-03-01T10:07:13Z"), To: at("2026-03-01T12:07:59Z"), Interval: 5*time.Minute + 3*time.Second}
	a := r.Aligned()
	require.Equal(t, Range{From: at("2026-03-01T10:05:00Z"), To: at("2026-03-01T12:10:00Z"), Interval: 5 * time.Minute}, a)
	require.Equal(t, a, a.Aligned())
}
