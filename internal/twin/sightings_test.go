package twin

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/testenv"
)

// Distinct attackers over any window within the lookback, summed from the sightings, equal
// count(DISTINCT ip) over the wide rollup: per country and in any country, whatever order the
// buckets were built in.
func TestSightingsCountDistinctAttackers(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t)
	rng := rand.New(rand.NewPCG(7, 9))
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const days = 40
	countries := []any{"CZ", "US", nil}
	var batch pgx.Batch
	for d := range days {
		for range 30 + rng.IntN(30) {
			// A few addresses come back often; some appear from two countries.
			ip := rng.IntN(60)
			if rng.IntN(3) == 0 {
				ip = rng.IntN(4)
			}
			batch.Queue(`INSERT INTO incidents_daily (time, raw_count, identity_id, trap, action, ip, country)
				VALUES ($1, 1, $2, 'haas', 'login', '192.0.2.0'::inet + $3, $4) ON CONFLICT DO NOTHING`,
				first.AddDate(0, 0, d), 1+rng.IntN(3), ip, countries[(ip+rng.IntN(2)*rng.IntN(2))%3])
		}
	}
	require.NoError(t, pool.SendBatch(ctx, &batch).Close())
	del, ins := Sightings.BuildSQL("daily")
	// Newest half first, then the older half, as the twin job builds.
	for _, span := range [][2]int{{days / 2, days}, {0, days / 2}} {
		from, to := first.AddDate(0, 0, span[0]), first.AddDate(0, 0, span[1])
		_, err := pool.Exec(ctx, del, from, to)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, ins, from, to)
		require.NoError(t, err)
	}
	daySeconds := int(period.Daily.Step().Seconds())
	for range 60 {
		a := first.AddDate(0, 0, rng.IntN(days))
		b := a.AddDate(0, 0, 1+rng.IntN(days))
		for _, byCountry := range []bool{true, false} {
			group := "NULL::text"
			if byCountry {
				group = "country"
			}
			want := counts(t, pool, `SELECT coalesce(`+group+`, '-'), count(DISTINCT ip) FROM incidents_daily
				WHERE time >= $1 AND time < $2 GROUP BY 1`, a, b)
			got := counts(t, pool, `SELECT coalesce(country, '-'), sum(attackers)::bigint FROM incidents_daily_sightings
				WHERE by_country = $3 AND time >= $1 AND time < $2 AND gap * $4::bigint > extract(epoch FROM time - $1)
				GROUP BY 1`, a, b, byCountry, daySeconds)
			require.Equal(t, want, got, "window %s..%s by country %v", a.Format("01-02"), b.Format("01-02"), byCountry)
		}
	}
}

func counts(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) map[string]int64 {
	t.Helper()
	rows, err := pool.Query(context.Background(), sql, args...)
	require.NoError(t, err)
	m, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kv struct {
		k string
		v int64
	}, err error) {
		err = r.Scan(&kv.k, &kv.v)
		return kv, err
	})
	require.NoError(t, err)
	out := map[string]int64{}
	for _, kv := range m {
		out[kv.k] = kv.v
	}
	return out
}

func TestStaleSpansTheLookbackOfSightings(t *testing.T) {
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	from, to := Stale("incidents", "daily", day, day.AddDate(0, 0, 1))
	require.Equal(t, day, from)
	require.Equal(t, day.AddDate(0, 0, 401), to)
	from, to = Stale("passwords", "daily", day, day.AddDate(0, 0, 1))
	require.Equal(t, day.AddDate(0, 0, 1), to, "password twins depend on their own bucket only")
	require.Equal(t, day, from)
	_, to = Stale("incidents", "quarterly", day, day.Add(15*time.Minute))
	require.Equal(t, day.Add(15*time.Minute), to, "quarterly has no twins")
}
