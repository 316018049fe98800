//go:build bench

package demo_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/demo"
	"github.com/sview-project/sview/internal/testenv"
)

// load1 is the machine's one-minute load average: benchmarks on a shared machine say how busy
// it was.
func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return f
}

// BenchmarkSeed30Days seeds 30 days at 1M incidents a day (times SVIEW_BENCH_SCALE) into a fresh
// database and reports the time taken, the rate and the size of each raw table and its indexes.
func BenchmarkSeed30Days(b *testing.B) {
	perDay := int(1_000_000 * testenv.BenchScale(b))
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		pool := testenv.Pool(b)
		b.StartTimer()
		loadBefore := load1()
		res, err := demo.Seed(ctx, pool, demo.Options{Days: 30, PerDay: perDay, Seed: 1,
			End: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Progress: os.Stderr})
		require.NoError(b, err)
		b.StopTimer()
		b.ReportMetric(res.Duration.Seconds(), "s")
		b.ReportMetric(float64(res.Rows.Total())/res.Duration.Seconds(), "rows/s")
		b.ReportMetric(float64(res.Rows.Incidents)/res.Duration.Seconds(), "incidents/s")
		b.ReportMetric(float64(res.Rows.Total()), "rows")
		b.ReportMetric((loadBefore+load1())/2, "load1")
		b.Logf("seed 30 days × %d incidents/day: %s", perDay, res)
		var totalMB float64
		for _, t := range []string{"incidents", "passwords", "ports"} {
			var rows, total, idx int64
			require.NoError(b, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM `+t+`),
				pg_total_relation_size($1::regclass), pg_indexes_size($1::regclass)`, t).Scan(&rows, &total, &idx))
			mb := func(n int64) float64 { return float64(n) / (1 << 20) }
			b.ReportMetric(mb(total), "MB_"+t)
			b.ReportMetric(mb(idx), "MB_"+t+"_indexes")
			b.Logf("  %-9s %10d rows  %8.1f MB total  %8.1f MB indexes  %6.1f bytes/row", t, rows, mb(total), mb(idx),
				float64(total)/float64(max(rows, 1)))
			totalMB += mb(total)
		}
		b.ReportMetric(totalMB, "MB_raw_total")
		b.StartTimer()
	}
}
