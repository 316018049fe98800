package activity

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sview-project/sview/aggregator"
	"github.com/sview-project/sview/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var base = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// TestLastSeenAndSilences: probe 1 sends incidents every hour of two days but 20:00–28:00;
// probe 2 sends port scans for its first ten hours only; probe 3 never sends anything. The
// first 30 hours are rolled up, the rest is raw, so both sources are read.
func TestLastSeenAndSilences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	_, err := pool.Exec(ctx, `INSERT INTO identity (id, sn, device_token)
		VALUES (1, 'probe-a', repeat('a', 64)), (2, 'probe-b', repeat('b', 64)), (3, 'probe-c', repeat('c', 64))`)
	require.NoError(t, err)
	for _, s := range []string{
		`INSERT INTO incidents (time, identity_id, trap, action, ip)
			SELECT $1::timestamptz + h * interval '1 hour' + interval '10 minutes', 1, 'minipot_telnet', 'login', '192.0.2.1'
			FROM generate_series(0, 47) h WHERE h NOT BETWEEN 20 AND 27`,
		`INSERT INTO ports (time, identity_id, port, protocol, ip)
			SELECT $1::timestamptz + h * interval '1 hour' + interval '20 minutes', 2, 22, 'TCP', '192.0.2.2'
			FROM generate_series(0, 9) h`,
	} {
		_, err := pool.Exec(ctx, s, base)
		require.NoError(t, err, s)
	}
	m, err := aggregator.New(pool, aggregator.Config{Now: func() time.Time { return base.Add(30 * time.Hour) }})
	require.NoError(t, err)
	require.NoError(t, m.CatchUp(ctx, "quarterly"))

	probes, err := LastSeen(ctx, pool, nil)
	require.NoError(t, err)
	require.Equal(t, []Probe{
		{ID: 1, Serial: "probe-a", LastSeen: base.Add(47*time.Hour + 10*time.Minute)},
		{ID: 2, Serial: "probe-b", LastSeen: base.Add(9*time.Hour + 30*time.Minute)},
		{ID: 3, Serial: "probe-c"},
	}, probes, "probe 1 from a raw row, probe 2 from the end of its last quarter-hour")
	probes, err = LastSeen(ctx, pool, []int64{2})
	require.NoError(t, err)
	require.Len(t, probes, 1)

	from, to := base.Add(12*time.Hour), base.Add(48*time.Hour)
	silences, err := Silences(ctx, pool, nil, from, to, 6*time.Hour, 100)
	require.NoError(t, err)
	start := base.Add(12*time.Hour - Lookback)
	require.Equal(t, []Silence{
		{ProbeID: 3, Serial: "probe-c", From: start, To: to, SinceBefore: true, Ongoing: true},
		{ProbeID: 2, Serial: "probe-b", From: base.Add(10 * time.Hour), To: to, Ongoing: true},
		{ProbeID: 1, Serial: "probe-a", From: base.Add(20 * time.Hour), To: base.Add(28 * time.Hour)},
	}, silences)

	silences, err = Silences(ctx, pool, []int64{1}, from, to, 9*time.Hour, 100)
	require.NoError(t, err)
	require.Empty(t, silences, "probe 1's 8 hours are shorter than 9")
	silences, err = Silences(ctx, pool, []int64{1, 2}, from, to, 6*time.Hour, 1)
	require.NoError(t, err)
	require.Len(t, silences, 1, "the limit holds")
}
