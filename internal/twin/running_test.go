package twin

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/testenv"
)

func TestTotalsArithmeticAndEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	random := func() map[PortKey]int64 {
		m := map[PortKey]int64{}
		for range rng.IntN(300) {
			proto := []string{"TCP", "UDP"}[rng.IntN(2)]
			k, err := NewPortKey(proto, int32(rng.IntN(200)))
			require.NoError(t, err)
			m[k] += 1 + rng.Int64N(1<<40)
		}
		return m
	}
	sorted := func(m map[PortKey]int64) Totals {
		var out Totals
		for _, proto := range []string{"TCP", "UDP"} {
			for port := range int32(200) {
				k, _ := NewPortKey(proto, port)
				if m[k] != 0 {
					out.Keys, out.Counts = append(out.Keys, k), append(out.Counts, m[k])
				}
			}
		}
		return out
	}
	for range 200 {
		a, b := random(), random()
		sum := map[PortKey]int64{}
		for k, c := range a {
			sum[k] += c
		}
		for k, c := range b {
			sum[k] += c
		}
		ta, tb := sorted(a), sorted(b)
		require.Equal(t, sorted(sum), ta.Add(tb))
		back, err := ta.Add(tb).Sub(tb)
		require.NoError(t, err)
		require.Equal(t, ta, back, "(a + b) − b = a, zeros dropped")
		dec, err := DecodeTotals(ta.Add(tb).Encode())
		require.NoError(t, err)
		require.Equal(t, ta.Add(tb), dec)
		if len(b) > 0 {
			_, err = ta.Sub(ta.Add(tb))
			require.ErrorContains(t, err, "do not contain each other")
		}
	}
	empty, err := DecodeTotals(nil)
	require.NoError(t, err)
	require.Zero(t, empty.Len())
	_, err = DecodeTotals([]byte{0x80})
	require.ErrorContains(t, err, "truncated")
	_, err = DecodeTotals(Totals{Keys: []PortKey{3}, Counts: []int64{0}}.Encode())
	require.ErrorContains(t, err, "zero count")
}

func TestPortKeys(t *testing.T) {
	for _, c := range []struct {
		proto string
		port  int32
	}{{"TCP", 0}, {"TCP", 65535}, {"UDP", 22}, {"other", -1}, {"other", 1 << 20}} {
		k, err := NewPortKey(c.proto, c.port)
		require.NoError(t, err)
		require.Equal(t, []string{c.proto, fmt.Sprint(c.port)}, k.Texts())
	}
	tcp, _ := NewPortKey("TCP", 65535)
	udp, _ := NewPortKey("UDP", 0)
	require.Less(t, tcp, udp, "keys sort by protocol, then port")
	_, err := NewPortKey("SCTP", 1)
	require.ErrorContains(t, err, `protocol "SCTP"`)
}

// TestExtendBuildsAChain: Extend sums listed buckets from the origin on, stops at a bucket not
// listed and at closed, and starts over when its chain fell behind what the rollup holds.
func TestExtendBuildsAChain(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t)
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(d int) time.Time { return day.AddDate(0, 0, d) }
	// Day d scans port 22 d+1 times and port d once.
	for d := range 6 {
		_, err := pool.Exec(ctx, `INSERT INTO ports_daily_by_port (time, protocol, port, raw_count, rank)
			VALUES ($1, 'TCP', 22, $2, 1), ($1, 'UDP', $3, 1, 2)`, at(d), d+1, d)
		require.NoError(t, err)
	}
	list := func(days ...int) {
		for _, d := range days {
			_, err := pool.Exec(ctx, "INSERT INTO twin_buckets (source, precision, time) VALUES ('ports', 'daily', $1)", at(d))
			require.NoError(t, err)
		}
	}
	extend := func(first, closed time.Time) (time.Time, bool) {
		var built time.Time
		var ok bool
		require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var err error
			built, ok, err = Running.Extend(ctx, tx, "daily", first, closed)
			return err
		}))
		return built, ok
	}
	show := func(r Row) string {
		var parts []string
		for i, k := range r.Totals.Keys {
			parts = append(parts, fmt.Sprintf("%s/%s=%d", k.Texts()[0], k.Texts()[1], r.Totals.Counts[i]))
		}
		return fmt.Sprintf("%s..%s %s", r.Origin.Format("02"), r.Time.Format("02"), strings.Join(parts, " "))
	}
	row := func(until time.Time) string {
		r, ok, err := Running.ReadRow(ctx, pool, "daily", until)
		require.NoError(t, err)
		require.True(t, ok)
		return show(r)
	}

	list(0, 1, 3)
	for d := range 2 {
		built, ok := extend(at(0), at(6))
		require.True(t, ok)
		require.Equal(t, at(d), built)
	}
	_, ok := extend(at(0), at(6))
	require.False(t, ok, "day 2 is not listed: the chain waits for it")
	require.Equal(t, "01..02 TCP/22=3 UDP/0=1 UDP/1=1", row(time.Time{}))

	list(2)
	for range 2 {
		_, ok := extend(at(0), at(6))
		require.True(t, ok)
	}
	_, ok = extend(at(0), at(6))
	require.False(t, ok, "day 4 is not listed")
	require.Equal(t, "01..04 TCP/22=10 UDP/0=1 UDP/1=1 UDP/2=1 UDP/3=1", row(time.Time{}))
	require.Equal(t, "01..02 TCP/22=3 UDP/0=1 UDP/1=1", row(at(2)), "the latest row before day 2")

	// A rewrite of day 2 drops the rows that sum it; one that only touches days before the
	// origin of a chain would keep them.
	_, err := pool.Exec(ctx, Running.StaleSQL("daily"), at(2), at(3))
	require.NoError(t, err)
	require.Equal(t, "01..02 TCP/22=3 UDP/0=1 UDP/1=1", row(time.Time{}))
	_, err = pool.Exec(ctx, Running.StaleSQL("daily"), at(-5), at(-4))
	require.NoError(t, err)
	require.Equal(t, "01..02 TCP/22=3 UDP/0=1 UDP/1=1", row(time.Time{}), "nothing before the origin is summed")

	// Retention cut the rollup before day 3: the chain starts over there.
	list(4, 5)
	built, ok := extend(at(3), at(6))
	require.True(t, ok)
	require.Equal(t, at(3), built)
	require.Equal(t, "04..04 TCP/22=4 UDP/3=1", row(time.Time{}))
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM ports_daily_running").Scan(&n))
	require.Equal(t, 1, n, "the old chain is gone")
	for range 2 {
		_, ok := extend(at(3), at(6))
		require.True(t, ok)
	}
	_, ok = extend(at(3), at(6))
	require.False(t, ok, "day 6 is not closed")
	require.Equal(t, "04..06 TCP/22=15 UDP/3=1 UDP/4=1 UDP/5=1", row(time.Time{}))
}
