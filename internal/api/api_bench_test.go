//go:build bench

package api

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/leak"
	"github.com/sview-project/sview/internal/testenv"
)

// seedPwned fills passwords_pwned with n pseudo-random hashes, about one per prefix at 1M.
func seedPwned(ctx context.Context, b *testing.B, pool *pgxpool.Pool, n int) {
	b.Helper()
	if _, err := pool.Exec(ctx, `INSERT INTO passwords_pwned (hash, count, sources)
		SELECT substring(sha256(i::text::bytea) FROM 1 FOR 20), 1 + i % 1000, '{telnet}' FROM generate_series(1, $1) AS i`, n); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE passwords_pwned"); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRangeThroughput: the HIBP range endpoint over loopback HTTP, driven by an in-Go
// load loop (8 keep-alive clients, bounded in requests and time), with and without padding.
// The table holds 10M hashes at scale 1.
func BenchmarkRangeThroughput(b *testing.B) {
	hashes := max(10_000, int(10_000_000*testenv.BenchScale(b)))
	requests := max(2_000, int(50_000*testenv.BenchScale(b)))
	const workers = 8
	pool := testenv.Pool(b)
	ctx := context.Background()
	seedPwned(ctx, b, pool, hashes)
	srv := httptest.NewServer(Public(Deps{DB: pool, Limits: Limits{Rate: -1}}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	for _, padding := range []bool{false, true} {
		b.Run(fmt.Sprintf("padding=%v", padding), func(b *testing.B) {
			for b.Loop() {
				lat := make([][]time.Duration, workers)
				deadline := time.Now().Add(60 * time.Second)
				start := time.Now()
				var wg sync.WaitGroup
				for w := range workers {
					wg.Go(func() {
						rnd := rand.New(rand.NewPCG(uint64(w), 1))
						for i := 0; i < requests/workers && time.Now().Before(deadline); i++ {
							req, _ := http.NewRequest("GET", fmt.Sprintf("%s/range/%05X", srv.URL, rnd.IntN(1<<20)), nil)
							if padding {
								req.Header.Set("Add-Padding", "true")
							}
							t0 := time.Now()
							resp, err := client.Do(req)
							if err != nil {
								b.Error(err)
								return
							}
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if resp.StatusCode != 200 {
								b.Errorf("status %d", resp.StatusCode)
								return
							}
							lat[w] = append(lat[w], time.Since(t0))
						}
					})
				}
				wg.Wait()
				all := slices.Concat(lat...)
				slices.Sort(all)
				elapsed := time.Since(start)
				b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
				b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50_ms")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99_ms")
				b.Logf("%d range requests by %d clients over %d hashes (%.1f per prefix) in %s", len(all), workers, hashes,
					float64(hashes)/(1<<20), elapsed.Round(time.Millisecond))
			}
		})
	}
}

// discardWriter is the cheapest ResponseWriter, so the hot-path benchmark measures the handler.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }

// BenchmarkRangeHotPath: the range handler called in-process (no network) over random prefixes,
// answered from a warm RangeStore and, for the ratio, from PostgreSQL per request as before.
// 1M hashes at scale 1, about one per prefix as in the wrk runs of BENCHMARKS.md.
func BenchmarkRangeHotPath(b *testing.B) {
	hashes := max(10_000, int(1_000_000*testenv.BenchScale(b)))
	const dbRequests, storeRequests = 2_000, 200_000
	pool := testenv.Pool(b)
	ctx := context.Background()
	seedPwned(ctx, b, pool, hashes)
	store, err := leak.OpenRangeStore(ctx, pool, leak.RangeStoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before, t0 := heap(), time.Now()
	if err := store.Warm(ctx); err != nil {
		b.Fatal(err)
	}
	took := time.Since(t0)
	warmed := fmt.Sprintf("warmed %d hashes in %s: %d MiB counted against the bound, heap grew by %d MiB", hashes, took.Round(time.Millisecond),
		store.Bytes()>>20, (heap()-before)>>20)
	fromStore := Public(Deps{DB: pool, Ranges: store, Limits: Limits{Rate: -1}})
	fromDB := Public(Deps{DB: pool, Limits: Limits{Rate: -1}})
	// perRequest serves n random prefixes and returns the mean time of one.
	perRequest := func(h http.Handler, n int, padding bool) time.Duration {
		rnd := rand.New(rand.NewPCG(1, 2))
		reqs := make([]*http.Request, 1024)
		for i := range reqs {
			reqs[i] = httptest.NewRequest("GET", fmt.Sprintf("/range/%05X", rnd.IntN(1<<20)), nil)
			if padding {
				reqs[i].Header.Set("Add-Padding", "true")
			}
		}
		start := time.Now()
		for i := range n {
			w := &discardWriter{header: http.Header{}}
			h.ServeHTTP(w, reqs[i%len(reqs)])
			if w.status != 0 && w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
		}
		return time.Since(start) / time.Duration(n)
	}
	for _, padding := range []bool{false, true} {
		b.Run(fmt.Sprintf("padding=%v", padding), func(b *testing.B) {
			for b.Loop() {
				db := perRequest(fromDB, dbRequests, padding)
				mem := perRequest(fromStore, storeRequests, padding)
				b.ReportMetric(float64(db.Nanoseconds())/1000, "db_us/req")
				b.ReportMetric(float64(mem.Nanoseconds())/1000, "store_us/req")
				b.ReportMetric(float64(db)/float64(mem), "x_faster")
			}
			b.Log(warmed)
		})
	}
}
