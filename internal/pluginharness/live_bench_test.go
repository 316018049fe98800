//go:build bench

package pluginharness

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/testenv"
)

// BenchmarkLiveStream measures the live stream through the plugin process (docs/live.md): 1
// and 50 subscribers (one RunStream each, as 50 users' channels) at the highest rate a stream
// allows, 1000 events/s, while a writer inserts 100 incidents every 100 ms (1000/s, so nothing
// needs dropping) for 5 s × SVIEW_BENCH_SCALE. It reports the events delivered per second over
// all subscribers, the delay from a row's time (clock_timestamp() at insert) to its arrival in
// the subscriber (p50, p99) and what the rate dropped.
func BenchmarkLiveStream(b *testing.B) {
	for _, n := range []int{1, 50} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			p := start(b)
			pc, dbURL := seededDatabase(b, nil)
			pool, err := pgxpool.New(context.Background(), dbURL)
			require.NoError(b, err)
			defer pool.Close()
			ctx, stop := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			defer wg.Wait()
			defer stop()
			readers := openStreams(ctx, b, p, pc, n, 1000, &wg)
			warmUp(b, pool, readers)

			batches := max(1, int(50*testenv.BenchScale(b)))
			const perBatch = 100
			b.ResetTimer()
			var elapsed time.Duration
			for range b.N {
				before := make([]int, n)
				for i, r := range readers {
					before[i], _ = r.progress("login")
				}
				began := time.Now()
				tick := time.NewTicker(100 * time.Millisecond)
				for range batches {
					require.NoError(b, insertIncidents(pool, perBatch, "login"))
					<-tick.C
				}
				tick.Stop()
				want := batches * perBatch
				require.Eventually(b, func() bool {
					for i, r := range readers {
						got, dropped := r.progress("login")
						if got-before[i]+int(dropped) < want {
							return false
						}
					}
					return true
				}, 60*time.Second, 5*time.Millisecond)
				elapsed += time.Since(began)
			}
			b.StopTimer()

			var delays []time.Duration
			var dropped int64
			for _, r := range readers {
				got, d := r.snapshot()
				require.NoError(b, r.err)
				dropped += d
				for _, x := range got {
					if x.action == "login" {
						delays = append(delays, x.delay)
					}
				}
			}
			slices.Sort(delays)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(float64(len(delays))/elapsed.Seconds(), "events/s")
			b.ReportMetric(ms(delays[len(delays)/2]), "p50_ms")
			b.ReportMetric(ms(delays[len(delays)*99/100]), "p99_ms")
			b.ReportMetric(float64(dropped), "dropped")
			b.ReportMetric(float64(batches*perBatch*b.N), "rows")
		})
	}
}
