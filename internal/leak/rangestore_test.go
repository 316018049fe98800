package leak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/testenv"
)

// countingDB counts the range queries (Query) that reach the database.
type countingDB struct {
	*pgxpool.Pool
	queries atomic.Int64
}

func (c *countingDB) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c.queries.Add(1)
	return c.Pool.Query(ctx, sql, args...)
}

func rangePrefix(password string) string {
	return strings.ToUpper(HashPassword(password).String()[:RangePrefixLen])
}

// wantBody is the unpadded answer the database gives for prefix.
func wantBody(t *testing.T, db Querier, prefix string) string {
	t.Helper()
	lines, err := Range(context.Background(), db, prefix)
	require.NoError(t, err)
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

func getBody(t *testing.T, s *RangeStore, prefix string) string {
	t.Helper()
	e, err := s.Get(context.Background(), prefix)
	require.NoError(t, err)
	return string(e.Body)
}

func runStore(t *testing.T, s *RangeStore) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// A leak build or an import shows in the answers within the poll interval.
func TestRangeStoreFreshness(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	now := time.Now().UTC()
	captured(t, pool, "hunter2", "minipot_telnet", 3, now.Add(-time.Hour))
	_, err := Build(ctx, pool, Options{Now: now})
	require.NoError(t, err)

	const poll = 50 * time.Millisecond
	s, err := OpenRangeStore(ctx, pool, RangeStoreOptions{Refresh: poll, OnError: func(err error) { t.Error(err) }})
	require.NoError(t, err)
	runStore(t, s)
	prefix := rangePrefix("hunter2")
	suffix := HashPassword("hunter2").String()[RangePrefixLen:]
	first, err := s.Get(ctx, prefix)
	require.NoError(t, err)
	require.Contains(t, string(first.Body), strings.ToUpper(suffix)+":3\r\n")
	require.False(t, first.Modified.IsZero(), "a build gives Last-Modified")
	again, err := s.Get(ctx, prefix)
	require.NoError(t, err)
	require.Same(t, first, again, "a second request is served from memory")

	// A new build: the store follows within a few polls.
	captured(t, pool, "hunter2", "minipot_ftp", 4, now.Add(-2*time.Minute))
	_, err = Build(ctx, pool, Options{Now: now.Add(2 * time.Minute)})
	require.NoError(t, err)
	built := time.Now()
	require.Eventually(t, func() bool {
		return strings.Contains(getBody(t, s, prefix), strings.ToUpper(suffix)+":7\r\n")
	}, 20*poll, poll/5)
	require.Less(t, time.Since(built), 4*poll+time.Second, "fresh within the poll interval (and a warm)")
	second, err := s.Get(ctx, prefix)
	require.NoError(t, err)
	require.NotEqual(t, first.ETag, second.ETag)
	require.False(t, second.Modified.Before(first.Modified))

	// An import is followed too.
	_, err = Import(ctx, pool, strings.NewReader("5,correcthorse,\n"), ImportOptions{Source: "fresh.csv"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return strings.Contains(getBody(t, s, rangePrefix("correcthorse")), strings.ToUpper(HashPassword("correcthorse").String()[RangePrefixLen:])+":5\r\n")
	}, 20*poll, poll/5)
}

func randomRecords(rnd *rand.Rand, n int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		for j := range recs[i].Hash {
			recs[i].Hash[j] = byte(rnd.IntN(256))
		}
		recs[i].Count = int64(1 + rnd.IntN(100_000))
		recs[i].Sources = []string{}
	}
	return recs
}

// Warmed or filled on demand, the store answers what Range answers, and a warm store asks the
// database nothing more.
func TestRangeStoreMatchesRange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	rnd := rand.New(rand.NewPCG(5, 6))
	recs := randomRecords(rnd, 500)
	// Several hashes in one prefix, and the first and last prefixes.
	for _, h := range []string{"abcde" + strings.Repeat("1", 35), "abcde" + strings.Repeat("2", 35), "abcdef" + strings.Repeat("0", 34),
		strings.Repeat("0", 40), strings.Repeat("f", 40)} {
		recs = append(recs, Record{Hash: mustHash(t, h), Count: 9, Sources: []string{}})
	}
	insertHashes(t, pool, recs)
	prefixes := []string{"ABCDE", "00000", "FFFFF", "12345"}
	for _, r := range recs[:100] {
		prefixes = append(prefixes, strings.ToUpper(r.Hash.String()[:RangePrefixLen]))
	}
	for range 100 {
		prefixes = append(prefixes, fmt.Sprintf("%05X", rnd.IntN(rangePrefixes)))
	}

	lazyDB := &countingDB{Pool: pool}
	lazy, err := OpenRangeStore(ctx, lazyDB, RangeStoreOptions{})
	require.NoError(t, err)
	warmDB := &countingDB{Pool: pool}
	warm, err := OpenRangeStore(ctx, warmDB, RangeStoreOptions{})
	require.NoError(t, err)
	require.NoError(t, warm.Warm(ctx))
	require.Equal(t, int64(1), warmDB.queries.Load(), "one scan")
	for _, p := range prefixes {
		want := wantBody(t, pool, p)
		require.Equal(t, want, getBody(t, lazy, p), p)
		require.Equal(t, want, getBody(t, warm, p), p)
	}
	require.Equal(t, int64(1), warmDB.queries.Load(), "every prefix was in memory")
	require.Positive(t, lazyDB.queries.Load())
	require.Greater(t, warm.Bytes(), lazy.Bytes(), "the warm store holds every prefix, the lazy one those asked for")

	_, err = lazy.Get(ctx, "ABCD")
	require.ErrorIs(t, err, ErrInvalidPrefix)
	_, err = lazy.Get(ctx, "ABCDG")
	require.ErrorIs(t, err, ErrInvalidPrefix)
}

// The held bodies never pass MaxBytes, the accounting matches the slots, and a prefix asked
// for all the time stays while others come and go.
func TestRangeStoreMemoryBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	recs := randomRecords(rand.New(rand.NewPCG(7, 8)), 2000)
	insertHashes(t, pool, recs)
	const maxBytes = 40_000 // about 300 of the 2000 non-empty prefixes
	s, err := OpenRangeStore(ctx, pool, RangeStoreOptions{MaxBytes: maxBytes})
	require.NoError(t, err)
	hot := strings.ToUpper(recs[0].Hash.String()[:RangePrefixLen])
	hotBody := wantBody(t, pool, hot)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(recs); i += 4 {
				p := strings.ToUpper(recs[i].Hash.String()[:RangePrefixLen])
				e, err := s.Get(ctx, p)
				if err != nil || !strings.Contains(string(e.Body), strings.ToUpper(recs[i].Hash.String()[RangePrefixLen:])) {
					t.Errorf("%s: %v, entry %v", p, err, e)
					return
				}
				if e, err := s.Get(ctx, hot); err != nil || string(e.Body) != hotBody {
					t.Errorf("hot prefix: %v, entry %v", err, e)
					return
				}
			}
		})
	}
	wg.Wait()
	require.LessOrEqual(t, s.Bytes(), int64(maxBytes))
	var held int64
	entries := 0
	for i := range s.slots {
		if e := s.slots[i].Load(); e != nil {
			held += entrySize(e)
			entries++
		}
	}
	require.Equal(t, held, s.Bytes(), "the count matches what the slots hold")
	require.Less(t, entries, len(recs)/2, "evicted")
	hotIdx, err := strconv.ParseUint(hot, 16, 32)
	require.NoError(t, err)
	require.NotNil(t, s.slots[hotIdx].Load(), "the hot prefix survived the sweeps")

	// A warm stops at the bound; what it did not reach is read on demand.
	cold, err := OpenRangeStore(ctx, pool, RangeStoreOptions{MaxBytes: maxBytes})
	require.NoError(t, err)
	require.NoError(t, cold.Warm(ctx))
	require.LessOrEqual(t, cold.Bytes(), int64(maxBytes))
	require.Greater(t, cold.Bytes(), int64(maxBytes/2))
	require.Nil(t, cold.slots[rangePrefixes-1].Load(), "the end of the hash space was not reached")
	for _, p := range []string{"FFFFF", strings.ToUpper(recs[len(recs)-1].Hash.String()[:RangePrefixLen])} {
		require.Equal(t, wantBody(t, pool, p), getBody(t, cold, p), p)
	}
}

// Requests racing with new generations and warms always get a whole answer, and the last
// generation's data once it is read.
func TestRangeStoreConcurrentRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	recs := randomRecords(rand.New(rand.NewPCG(9, 10)), 300)
	insertHashes(t, pool, recs)
	s, err := OpenRangeStore(ctx, pool, RangeStoreOptions{MaxBytes: 30_000})
	require.NoError(t, err)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; ; i = (i + 1) % len(recs) {
				select {
				case <-stop:
					return
				default:
				}
				e, err := s.Get(ctx, strings.ToUpper(recs[i].Hash.String()[:RangePrefixLen]))
				if err != nil || !strings.Contains(string(e.Body), strings.ToUpper(recs[i].Hash.String()[RangePrefixLen:])+":") {
					t.Errorf("%v: %v", err, e)
					return
				}
			}
		})
	}
	var passwords []string
	for i := range 8 {
		pw := fmt.Sprintf("race-%d", i)
		passwords = append(passwords, pw)
		_, err := Import(ctx, pool, strings.NewReader("2,"+pw+",\n"), ImportOptions{Source: pw})
		require.NoError(t, err)
		require.NoError(t, s.Refresh(ctx))
		require.NoError(t, s.Warm(ctx))
	}
	close(stop)
	wg.Wait()
	require.Equal(t, uint64(9), s.Version().Gen, "one generation per import")
	for _, pw := range passwords {
		require.Contains(t, getBody(t, s, rangePrefix(pw)), strings.ToUpper(HashPassword(pw).String()[RangePrefixLen:])+":2\r\n")
	}
}
