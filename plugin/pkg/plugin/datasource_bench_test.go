//go:build bench

package plugin

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/testenv"
)

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkQueryDataWarm: a dashboard panel whose answer is cached, through the whole
// QueryData path in process (parse, cache lookup, frame decoding), with the in-process LRU
// and with Redis. Target: p99 under 2 ms.
func BenchmarkQueryDataWarm(b *testing.B) {
	calls := max(100, int(5000*testenv.BenchScale(b)))
	redisCfg, err := cache.ParseRedisURL(testenv.RedisURL(b))
	if err != nil {
		b.Fatal(err)
	}
	redisCfg.KeyPrefix = testenv.KeyPrefix(b)
	for _, tc := range []struct {
		name  string
		redis *cache.RedisConfig
	}{{"memory", nil}, {"redis", &redisCfg}} {
		b.Run(tc.name, func(b *testing.B) {
			d, _ := newSeeded(b, tc.redis)
			req := &backend.QueryDataRequest{Queries: []backend.DataQuery{
				dataQuery("A", `{"queryType":"stats","preset":"top_countries_by_incidents_graph","period":"1w"}`)}}
			ctx := context.Background()
			if _, err := d.QueryData(ctx, req); err != nil { // fills the cache
				b.Fatal(err)
			}
			for b.Loop() {
				lat := make([]time.Duration, calls)
				for i := range calls {
					start := time.Now()
					resp, err := d.QueryData(ctx, req)
					lat[i] = time.Since(start)
					if err != nil || resp.Responses["A"].Error != nil {
						b.Fatal(err, resp.Responses["A"].Error)
					}
				}
				b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, "p50_ms")
				b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99_ms")
			}
			b.Logf("%d warm QueryData calls of a top-7 graph (56 points × 2 series) on %s", calls, tc.name)
		})
	}
}
