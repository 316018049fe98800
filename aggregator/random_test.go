package aggregator

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/testenv"
)

// TestRandomizedExactlyOnce feeds raw rows with late arrivals, duplicates, rows exactly on
// bucket edges, deletes and updates to two aggregators running at once (rows often arriving
// while they run), whose runs are cancelled at random points; after a final catch-up every rollup of every precision must
// equal a GROUP BY computed directly from the raw rows. The twin job runs beside them, and every
// bucket it lists must hold twins equal to the GROUP BY of the wide bucket, at every turn.
// SVIEW_TEST_SEED replays a run.
func TestRandomizedExactlyOnce(t *testing.T) {
	t.Parallel()
	rng := testRand(t)

	ctx := context.Background()
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 6)
	_, err := pool.Exec(ctx, `INSERT INTO geo_prefixes (network, country, asn) VALUES
		('10.0.0.0/8', 'DE', 3320), ('10.1.0.0/16', 'CZ', 2852), ('192.0.2.0/24', 'US', 64500)`)
	require.NoError(t, err)

	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	const days = 2
	arrivals := randomRows(rng, base, days)
	slices.SortFunc(arrivals, func(a, b arrival) int { return a.at.Compare(b.at) })

	c := &clock{}
	c.Set(base)
	cfg := Config{Batch: map[period.Precision]time.Duration{"quarterly": 4 * time.Hour, "hourly": 12 * time.Hour, "daily": 48 * time.Hour}}
	managers := []*Manager{newManager(t, pool, c, cfg), newManager(t, pool, c, cfg)}

	next := 0
	for now := base.Add(37 * time.Minute); now.Before(base.Add(days*24*time.Hour + 2*time.Hour)); now = now.Add(time.Duration(40+rng.IntN(240)) * time.Minute) {
		c.Set(now)
		end := next
		for end < len(arrivals) && !arrivals[end].at.After(now) {
			end++
		}
		// Half of the time the rows arrive while the aggregators run, racing their windows.
		batch := arrivals[next:end]
		next = end
		if rng.IntN(6) == 0 {
			mutateRaw(ctx, t, pool, rng)
		}
		if rng.IntN(2) == 0 {
			insertArrivals(ctx, t, pool, batch, rng)
			batch = nil
		}
		// The twin job runs beside the rollups too: whatever it lists must match the wide rows.
		seed := rng.Uint64()
		runConcurrently(t, managers, rng, true, func() error {
			if err := tryInsertArrivals(ctx, pool, batch, seed); err != nil {
				return err
			}
			_, err := managers[1].BuildTwins(ctx, TwinOptions{})
			return err
		})
		requireTwinsCurrent(ctx, t, pool)
	}
	c.Set(base.Add((days + 3) * 24 * time.Hour))
	insertArrivals(ctx, t, pool, arrivals[next:], rng)
	runConcurrently(t, managers, rng, false, nil)
	require.NoError(t, managers[0].CatchUp(ctx, "quarterly"))

	for _, tbl := range derived.Families {
		for _, p := range derived.Rollups {
			want := oracle(ctx, t, pool, tbl, p)
			require.NotEmpty(t, want, "%s %s: the generator made no rows", tbl, p)
			require.Equal(t, want, rollupRows(ctx, t, pool, tbl, p), "%s %s differs from a GROUP BY of the raw rows", tbl, p)
			if twin := totalsOf(tbl, p); twin != "" {
				require.Equal(t, totalsOracle(ctx, t, pool, tbl, p), totalsRows(ctx, t, pool, twin), "%s differs from a GROUP BY of the raw rows", twin)
			}
		}
	}
	var pending int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM rollup_invalidations").Scan(&pending))
	require.Zero(t, pending, "invalidations left after the final catch-up")
	_, err = managers[0].BuildTwins(ctx, TwinOptions{})
	require.NoError(t, err)
	requireTwinsComplete(ctx, t, pool)
}

// testRand seeds a test's random source from the clock, or from SVIEW_TEST_SEED to replay a
// run; the seed is logged.
func testRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SVIEW_TEST_SEED"); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "SVIEW_TEST_SEED")
	}
	t.Logf("seed %d (rerun with SVIEW_TEST_SEED=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

type arrival struct {
	table derived.Family
	at    time.Time
	row   []string
}

// randomRows makes a few thousand raw rows over days: small dimension pools so groups merge,
// a share exactly on bucket edges, duplicates, NULL geo columns, and a share arriving late.
func randomRows(rng *rand.Rand, base time.Time, days int) []arrival {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	ips := []string{"10.1.2.3", "10.1.9.9", "10.7.0.1", "192.0.2.44", "198.51.100.7", "203.0.113.5"}
	var out []arrival
	for range 1800 {
		var ts time.Time
		if rng.IntN(4) == 0 { // exactly on a quarter, hour or day edge
			ts = base.Add(time.Duration(rng.IntN(days*96)) * 15 * time.Minute)
		} else {
			ts = base.Add(time.Duration(rng.Int64N(int64(days) * int64(24*time.Hour))).Truncate(time.Second))
		}
		country, asn := "-", "-"
		if rng.IntN(3) == 0 {
			country, asn = pick("CZ", "DE", "SK"), pick("2852", "3320", "-")
		}
		count := pick("1", "1", "1", "2", "7", "-")
		ip := pick(ips...)
		probe := strconv.Itoa(1 + rng.IntN(6))
		at := ts.Add(time.Duration(rng.IntN(120)) * time.Second)
		if rng.IntN(7) == 0 { // late: hours to a day after the fact
			at = ts.Add(time.Duration(1+rng.IntN(30)) * time.Hour)
		}
		var a arrival
		switch rng.IntN(5) {
		case 0:
			a = arrival{"incidents", at, []string{ts.Format(time.RFC3339), probe, pick("minipot_telnet", "minipot_ftp", "fwlogs"),
				pick("login", "connect", "small_port_scan"), ip, country, asn, count}}
		case 1:
			a = arrival{"passwords", at, []string{ts.Format(time.RFC3339), pick("root", "admin"), pick("1234", "admin", "x"),
				pick(probe, "-"), pick("minipot_telnet", "-"), pick(ip, "-"), country, asn, count}}
		case 2:
			a = arrival{"ports", at, []string{ts.Format(time.RFC3339), pick("22", "23", "8080"), pick("TCP", "UDP"),
				pick(probe, "-"), pick(ip, "-"), country, asn, count}}
		case 3:
			a = arrival{"feed_events", at, []string{ts.Format(time.RFC3339), pick("Shadowserver", "-"), pick("Scan-FTP", "Drone"),
				pick("information-gathering", "malicious-code"), pick("scanner", "infected-system"), pick("ftp", "mirai", "-"),
				ip, country, asn, count}}
		default:
			a = arrival{"commands", at, []string{ts.Format(time.RFC3339), pick("uname -a", "cat /proc/cpuinfo"),
				pick(probe, "-"), pick(ip, "-"), country, asn, count}}
		}
		out = append(out, a)
		if rng.IntN(10) == 0 { // the same report twice
			out = append(out, a)
		}
	}
	return out
}

// insertArrivals writes rows in a few multi-row statements per table.
func insertArrivals(ctx context.Context, t *testing.T, pool *pgxpool.Pool, rows []arrival, rng *rand.Rand) {
	require.NoError(t, tryInsertArrivals(ctx, pool, rows, rng.Uint64()))
}

func tryInsertArrivals(ctx context.Context, pool *pgxpool.Pool, rows []arrival, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed))
	byTable := map[derived.Family][][]string{}
	for _, a := range rows {
		byTable[a.table] = append(byTable[a.table], a.row)
	}
	for _, tbl := range derived.Families {
		rs := byTable[tbl]
		for len(rs) > 0 {
			n := min(len(rs), 1+rng.IntN(40))
			if err := tryInsertRaw(ctx, pool, tbl, rs[:n]); err != nil {
				return err
			}
			rs = rs[n:]
		}
	}
	return nil
}

// mutateRaw deletes a few raw rows and moves a few others in time, as a correction would:
// by UPDATE within a day, and by DELETE and INSERT across days, since TimescaleDB cannot
// UPDATE a row into another (daily) chunk.
func mutateRaw(ctx context.Context, t *testing.T, pool *pgxpool.Pool, rng *rand.Rand) {
	tbl := derived.Families[rng.IntN(len(derived.Families))]
	_, err := pool.Exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE ctid IN (SELECT ctid FROM %s ORDER BY random() LIMIT 3)", tbl, tbl))
	require.NoError(t, err, "mutate %s", tbl)
	_, err = pool.Exec(ctx, fmt.Sprintf(`
		UPDATE %[1]s SET time = time - interval '50 minutes', raw_count = 3
		WHERE time - interval '50 minutes' >= date_trunc('day', time, 'UTC')
		  AND ctid IN (SELECT ctid FROM %[1]s WHERE time - interval '50 minutes' >= date_trunc('day', time, 'UTC') ORDER BY random() LIMIT 2)`, tbl))
	require.NoError(t, err)
	_, err = pool.Exec(ctx, fmt.Sprintf(`
		WITH moved AS (DELETE FROM %[1]s WHERE ctid IN (SELECT ctid FROM %[1]s ORDER BY random() LIMIT 1) RETURNING *)
		INSERT INTO %[1]s SELECT (jsonb_populate_record(NULL::%[1]s,
			to_jsonb(m) || jsonb_build_object('time', m.time - interval '13 hours', 'raw_count', 2))).* FROM moved m`, tbl))
	require.NoError(t, err)
}

// runConcurrently runs a catch-up on every Manager at once, and alongside, when given, a
// writer of raw rows; with interrupt, some catch-ups are cancelled after a random delay.
func runConcurrently(t *testing.T, managers []*Manager, rng *rand.Rand, interrupt bool, writer func() error) {
	var wg sync.WaitGroup
	errs := make([]error, len(managers)+1)
	for i, m := range managers {
		ctx, cancel := context.WithCancel(context.Background())
		// Half of the time the steps run one by one in a random order, some left out, so
		// daily also closes days ahead of hourly (reading quarterly rows in its place) and
		// late rows land in what it read so.
		var order []period.Precision
		if interrupt && rng.IntN(2) == 0 {
			for _, k := range rng.Perm(len(derived.Rollups)) {
				if rng.IntN(4) > 0 {
					order = append(order, derived.Rollups[k])
				}
			}
		}
		if interrupt && rng.IntN(3) == 0 {
			delay := time.Duration(rng.IntN(40)) * time.Millisecond
			ctx, cancel = context.WithTimeout(context.Background(), delay)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cancel()
			if order == nil {
				if err := m.CatchUp(ctx, "quarterly"); err != nil && ctx.Err() == nil {
					errs[i] = err
				}
				return
			}
			for _, p := range order {
				for _, t := range derived.Families {
					if _, err := m.runStep(ctx, key(t, p), stepOptions{}); err != nil && ctx.Err() == nil {
						errs[i] = err
						return
					}
				}
			}
		}()
	}
	if writer != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[len(managers)] = writer()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

// oracle computes the rows a rollup must hold straight from the raw table, one GROUP BY per
// precision, with the country and asn filled per raw row.
func oracle(ctx context.Context, t *testing.T, pool *pgxpool.Pool, table derived.Family, precision period.Precision) []string {
	dims := dimensions(table)
	sel := make([]string, len(dims))
	for i, d := range dims {
		sel[i] = "r." + d
		if d == "ip" {
			sel[i] = "host(r.ip)"
		}
	}
	group := make([]string, len(dims)+3)
	for i := range group {
		group[i] = strconv.Itoa(i + 1)
	}
	return textRows(ctx, t, pool, fmt.Sprintf(`
		SELECT date_bin('%d seconds'::interval, r.time, %s), %s, coalesce(r.country, g.country), coalesce(r.asn, g.asn),
		       sum(coalesce(r.raw_count, 1))::bigint
		FROM %s r LEFT JOIN LATERAL geo_lookup(r.ip) g ON true
		GROUP BY %s`, int(bucket(precision).Seconds()), origin, strings.Join(sel, ", "), table, strings.Join(group, ", ")))
}

// totalsOracle is oracle for a narrow twin: the raw rows grouped without ip and probe.
func totalsOracle(ctx context.Context, t testing.TB, pool *pgxpool.Pool, table derived.Family, precision period.Precision) []string {
	return textRows(ctx, t, pool, fmt.Sprintf(`
		SELECT date_bin('%d seconds'::interval, r.time, %s), r.trap, r.action, coalesce(r.country, g.country), coalesce(r.asn, g.asn),
		       sum(coalesce(r.raw_count, 1))::bigint
		FROM %s r LEFT JOIN LATERAL geo_lookup(r.ip) g ON true
		GROUP BY 1, 2, 3, 4, 5`, int(bucket(precision).Seconds()), origin, table))
}

func totalsRows(ctx context.Context, t testing.TB, pool *pgxpool.Pool, twin string) []string {
	return textRows(ctx, t, pool, "SELECT time, trap, action, country, asn, raw_count FROM "+twin)
}
