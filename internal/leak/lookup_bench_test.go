//go:build bench

package leak

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/testenv"
)

// benchHashes is the size: prefix lookups over 10M hashes.
const benchHashes = 10_000_000

// BenchmarkPrefixLookup measures ByPrefix for random 5- and 6-hex prefixes (p50/p99 per query,
// round trip included) over benchHashes×scale hashes, and, as the baseline, the original's
// lookup: LIKE 'prefix%' on the hex text of the same hashes in a table shaped like the
// original's (no index on the hash).
func BenchmarkPrefixLookup(b *testing.B) {
	ctx := context.Background()
	n := int(benchHashes * testenv.BenchScale(b))
	pool := testenv.Pool(b)
	start := time.Now()
	// 20 pseudo-random bytes per row without pgcrypto: md5(i) and 4 bytes of md5(i+1).
	_, err := pool.Exec(ctx, `INSERT INTO passwords_pwned (hash, count)
		SELECT decode(md5(i::text) || substr(md5((i + 1)::text), 1, 8), 'hex'), 1 + i % 1000
		FROM generate_series(1, $1::int) i ORDER BY 1`, n)
	require.NoError(b, err)
	for _, stmt := range []string{
		`CREATE TABLE pwned_hex AS SELECT encode(hash, 'hex') AS password_hash, count FROM passwords_pwned`,
		`VACUUM ANALYZE passwords_pwned`,
		`VACUUM ANALYZE pwned_hex`,
	} {
		_, err = pool.Exec(ctx, stmt)
		require.NoError(b, err)
	}
	b.Logf("%d hashes generated in %s", n, time.Since(start).Round(time.Millisecond))

	rnd := rand.New(rand.NewPCG(42, 43))
	randomPrefix := func(l int) string {
		const digits = "0123456789abcdef"
		p := make([]byte, l)
		for i := range p {
			p[i] = digits[rnd.IntN(16)]
		}
		return string(p)
	}
	measure := func(queries int, l int, lookup func(string) (int, error)) (p50, p99 time.Duration, rows float64) {
		lat := make([]time.Duration, queries)
		total := 0
		for i := range lat {
			p := randomPrefix(l)
			t := time.Now()
			got, err := lookup(p)
			lat[i] = time.Since(t)
			require.NoError(b, err)
			total += got
		}
		slices.Sort(lat)
		return lat[len(lat)/2], lat[len(lat)*99/100], float64(total) / float64(queries)
	}
	byPrefix := func(p string) (int, error) {
		recs, err := ByPrefix(ctx, pool, p)
		return len(recs), err
	}
	like := func(p string) (int, error) {
		var c int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT password_hash, count FROM pwned_hex WHERE password_hash LIKE $1) t`, p+"%").Scan(&c)
		return c, err
	}
	const queries = 2000
	likeQueries := 20
	for b.Loop() {
		measure(200, 5, byPrefix) // warm the cache and the connection pool
		p50_5, p99_5, rows5 := measure(queries, 5, byPrefix)
		p50_6, p99_6, rows6 := measure(queries, 6, byPrefix)
		likeP50, likeP99, likeRows := measure(likeQueries, 5, like)
		b.ReportMetric(us(p50_5), "p50_us_5hex")
		b.ReportMetric(ms(p99_5), "p99_ms_5hex")
		b.ReportMetric(us(p50_6), "p50_us_6hex")
		b.ReportMetric(ms(p99_6), "p99_ms_6hex")
		b.ReportMetric(ms(likeP50), "p50_ms_like_baseline")
		b.ReportMetric(float64(likeP50)/float64(p50_5), "x_faster_than_like")
		b.Logf("%d hashes: 5-hex p50 %s p99 %s (%.1f rows), 6-hex p50 %s p99 %s (%.2f rows); LIKE on hex text p50 %s p99 %s (%.1f rows, %d queries)",
			n, p50_5, p99_5, rows5, p50_6, p99_6, rows6, likeP50, likeP99, likeRows, likeQueries)
	}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
