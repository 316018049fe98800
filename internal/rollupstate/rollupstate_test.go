package rollupstate

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/testenv"
)

func TestIndex(t *testing.T) {
	cases := []struct {
		table     derived.Family
		precision period.Precision
		want      int32
		wantErr   string
	}{
		{"incidents", "quarterly", 0, ""},
		{"incidents", "daily", 2, ""},
		{"passwords", "quarterly", 3, ""},
		{"ports", "daily", 8, ""},
		{"greylist", "daily", 0, `table "greylist"`},
		{"ports", "weekly", 0, `precision "weekly"`},
	}
	for _, c := range cases {
		t.Run(string(c.table)+"_"+string(c.precision), func(t *testing.T) {
			got, err := Index(Key{c.table, c.precision})
			if c.wantErr != "" {
				require.ErrorContains(t, err, c.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

// TestOverdue: a rollup is late only beyond its bucket, the grace and the margin, so a daily
// rollup a day behind is on time and a quarterly one 40 minutes behind is not.
func TestOverdue(t *testing.T) {
	cases := []struct {
		precision period.Precision
		lag       time.Duration
		want      time.Duration
	}{
		{period.Quarterly, 10 * time.Minute, 0},
		{period.Quarterly, 33 * time.Minute, 0},
		{period.Quarterly, 40 * time.Minute, 7 * time.Minute},
		{period.Hourly, 70 * time.Minute, 0},
		{period.Hourly, 2 * time.Hour, 42 * time.Minute},
		{period.Daily, 24 * time.Hour, 0},
		{period.Daily, 24*time.Hour + 18*time.Minute, 0},
		{period.Daily, 26 * time.Hour, 102 * time.Minute},
	}
	for _, c := range cases {
		w := Watermark{Key: Key{Table: "incidents", Precision: c.precision}, LagSeconds: c.lag.Seconds()}
		require.Equal(t, c.want, w.Overdue(), "%s %s behind", c.precision, c.lag)
	}
	require.Equal(t, 33*time.Minute, DueLag(period.Quarterly))
	require.Equal(t, 24*time.Hour+18*time.Minute, DueLag(period.Daily))
}

func TestRead(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t)
	wm := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	_, err := pool.Exec(ctx, `
		INSERT INTO rollup_watermarks (source, precision, watermark) VALUES
			('ports', 'hourly', $1), ('incidents', 'daily', $1), ('incidents', 'quarterly', $1)`, wm)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `
		INSERT INTO rollup_invalidations (source, precision, from_time, to_time) VALUES
			('incidents', 'hourly', $1::timestamptz - interval '2 hours', $1::timestamptz - interval '1 hour'),
			('incidents', 'hourly', $1::timestamptz - interval '5 hours', $1::timestamptz - interval '4 hours')`, wm)
	require.NoError(t, err)
	from, to := wm.Add(-time.Hour), wm
	require.NoError(t, RecordJob(ctx, pool, JobRun{Job: "rollup:ports:hourly", StartedAt: wm, FinishedAt: wm.Add(time.Second),
		OK: true, Rows: 12, WindowFrom: &from, WindowTo: &to, DurationMS: 1000}))
	require.NoError(t, RecordJob(ctx, pool, JobRun{Job: "greylist", StartedAt: wm, FinishedAt: wm, Error: "boom"}))
	require.NoError(t, RecordJob(ctx, pool, JobRun{Job: "greylist", StartedAt: wm, FinishedAt: wm.Add(time.Minute), OK: true, Rows: 3}))

	idx, err := Index(Key{derived.Passwords, period.Hourly})
	require.NoError(t, err)
	pids := map[uint32]bool{}
	for _, key := range [][2]int32{{ClassWorker, idx}, {ClassJob, JobKey("greylist")}} {
		held, ok, err := Hold(ctx, pool.Config().ConnConfig, key[0], key[1], false)
		require.NoError(t, err)
		require.True(t, ok)
		defer held.Release(ctx)
		pids[held.conn.PgConn().PID()] = true
		_, again, err := Hold(ctx, pool.Config().ConnConfig, key[0], key[1], false)
		require.NoError(t, err)
		require.False(t, again, "a held lock is not taken twice")
	}

	s, err := Read(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, []string{"incidents quarterly", "incidents daily", "ports hourly"}, func() []string {
		var out []string
		for _, w := range s.Watermarks {
			out = append(out, w.String())
			require.Greater(t, w.LagSeconds, 0.0)
		}
		return out
	}(), "ordered by table, then finest precision first")
	require.Equal(t, []Invalidation{{Key: Key{"incidents", "hourly"}, Ranges: 2, From: wm.Add(-5 * time.Hour), To: wm.Add(-time.Hour)}},
		utcInvalidations(s.Invalidations))
	require.Len(t, s.Jobs, 2)
	require.Equal(t, "greylist", s.Jobs[0].Job)
	require.True(t, s.Jobs[0].OK, "a run replaces the previous result")
	require.Empty(t, s.Jobs[0].Error)
	require.Equal(t, int64(12), s.Jobs[1].Rows)
	require.Equal(t, from, s.Jobs[1].WindowFrom.UTC())

	require.Len(t, s.Locks, 2)
	kinds := map[string]Lock{}
	for _, l := range s.Locks {
		kinds[l.Kind] = l
		require.True(t, l.Granted)
		require.True(t, pids[uint32(l.PID)], "held by the connection Hold opened")
	}
	require.Equal(t, derived.Passwords, kinds["worker"].Table)
	require.Equal(t, period.Hourly, kinds["worker"].Precision)
	require.Equal(t, "greylist", kinds["job"].Job)
}

func utcInvalidations(in []Invalidation) []Invalidation {
	for i := range in {
		in[i].From, in[i].To = in[i].From.UTC(), in[i].To.UTC()
	}
	return in
}
