//go:build bench

package stats

import (
	"context"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/engine"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/pluginharness"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/testenv"
)

// countedEngine counts the database computations of the real engine.
type countedEngine struct {
	e *engine.Engine
	n atomic.Int64
}

func (c *countedEngine) Run(ctx context.Context, q query.Query, r period.Range) (data.Frames, time.Time, error) {
	c.n.Add(1)
	return c.e.Run(ctx, q, r)
}

// BenchmarkColdStampede: 100 identical cold queries at once, spread over `instances` caches
// (Grafana instances) sharing one backend, and how many database computations they cost.
// Target: 1.
func BenchmarkColdStampede(b *testing.B) {
	concurrent := 100
	if s, err := strconv.ParseFloat(os.Getenv("SVIEW_BENCH_SCALE"), 64); err == nil && s > 0 && s < 1 {
		concurrent = max(10, int(100*s))
	}
	pool := testenv.Pool(b)
	if err := pluginharness.Seed(context.Background(), pool); err != nil {
		b.Fatal(err)
	}
	q, err := query.Parse([]byte(`{"queryType":"stats","preset":"top_countries_by_attackers_graph","period":"1y"}`))
	if err != nil {
		b.Fatal(err)
	}
	rc, err := cache.ParseRedisURL(testenv.RedisURL(b))
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		instances int
		redis     bool
	}{{"memory_1_process", 1, false}, {"redis_4_instances", 4, true}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				eng := &countedEngine{e: engine.New(pool, engine.Options{})}
				prefix := testenv.KeyPrefix(b)
				var services []*Service
				for range tc.instances {
					var rcp *cache.RedisConfig
					if tc.redis {
						cfg := rc
						cfg.KeyPrefix = prefix
						rcp = &cfg
					}
					c, err := cache.Open(rcp, cache.Options{PollInterval: 5 * time.Millisecond})
					if err != nil {
						b.Fatal(err)
					}
					defer c.Close()
					services = append(services, New(Config{DB: pool, Cache: c, Engine: eng}))
				}
				start := time.Now()
				var wg sync.WaitGroup
				var failed atomic.Int64
				for i := range concurrent {
					wg.Go(func() {
						if _, err := services[i%len(services)].Query(context.Background(), q, period.Range{}, false); err != nil {
							failed.Add(1)
						}
					})
				}
				wg.Wait()
				if failed.Load() > 0 {
					b.Fatalf("%d queries failed", failed.Load())
				}
				b.ReportMetric(float64(eng.n.Load()), "db_computations")
				b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "wall_ms")
				if tc.redis {
					_, _ = services[0].Cache().Clear(context.Background())
				}
			}
			b.Logf("%d concurrent identical cold queries (top_countries_by_attackers_graph 1y) over %d instance(s)", concurrent, tc.instances)
		})
	}
}
