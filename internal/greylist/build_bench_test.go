//go:build bench

package greylist

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/testenv"
)

// benchIncidents is a week of raw incidents at Sentinel's volume (about 0.7M a day).
const benchIncidents = 5_000_000

// BenchmarkBuild measures one greylist build over a week of raw incidents (benchIncidents×scale
// rows, 200 probes, a long-tailed set of attacker addresses), against the floor of one plain
// GROUP BY ip over the same rows in the same run.
func BenchmarkBuild(b *testing.B) {
	ctx := context.Background()
	n := int(benchIncidents * testenv.BenchScale(b))
	pool := testenv.Pool(b)
	now := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	_, err := pool.Exec(ctx, `INSERT INTO identity (id, sn, device_token) SELECT i, 'sn' || i, repeat('a', 64) FROM generate_series(1, 200) i`)
	require.NoError(b, err)
	// Attacker k = floor(50000 * r^3) for uniform r: a few addresses do most of the work.
	_, err = pool.Exec(ctx, `INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip)
		SELECT $1::timestamptz - interval '1 second' * (random() * 7 * 86400), 1,
		       1 + (random() * 199)::int,
		       (ARRAY['minipot_telnet', 'minipot_ftp', 'minipot_smtp', 'minipot_http', 'fwlogs', 'faillogs', 'haas']::trap_t[])[1 + (random() * 6)::int],
		       'login', '10.0.0.0'::inet + (50000 * power(random(), 3))::int
		FROM generate_series(1, $2::int)`, now, n)
	require.NoError(b, err)
	_, err = pool.Exec(ctx, `VACUUM ANALYZE incidents`)
	require.NoError(b, err)
	b.Logf("%d incidents generated in %s", n, time.Since(start).Round(time.Millisecond))

	for b.Loop() {
		t := time.Now()
		var ips int
		require.NoError(b, pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT ip FROM incidents WHERE time >= $1 AND time < $2
			GROUP BY ip HAVING count(DISTINCT identity_id) >= 3) t`, now.AddDate(0, 0, -7), now).Scan(&ips))
		floor := time.Since(t)
		res, err := Build(ctx, pool, Options{Now: now})
		require.NoError(b, err)
		b.ReportMetric(res.Duration.Seconds(), "build_s")
		b.ReportMetric(float64(n)/res.Duration.Seconds(), "raw_rows/s")
		b.ReportMetric(floor.Seconds()/res.Duration.Seconds(), "x_of_group_by_floor")
		b.Logf("%d incidents: build %s (%d entries), plain GROUP BY ip floor %s (%d addresses)",
			n, res.Duration.Round(time.Millisecond), res.Entries, floor.Round(time.Millisecond), ips)
	}
}
