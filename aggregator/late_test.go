package aggregator

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/testenv"
)

// TestLateWritesIntoOldChunks rolls up three days, then corrects them the ways an operator or a
// delayed probe does — a multi-row INSERT, a COPY, an UPDATE and a DELETE below the watermark —
// and checks that every rollup, narrow twin and ranked twin again equals a GROUP BY of the raw
// rows. On TimescaleDB the old raw chunks are compressed first, as the compression policy would
// have them, so every write lands in a compressed chunk.
func TestLateWritesIntoOldChunks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 6)
	_, err := pool.Exec(ctx, `INSERT INTO geo_prefixes (network, country, asn) VALUES ('10.0.0.0/8', 'DE', 3320), ('192.0.2.0/24', 'US', 64500)`)
	require.NoError(t, err)

	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	rng := testRand(t)
	insertArrivals(ctx, t, pool, randomRows(rng, base, 3), rng)
	c := &clock{}
	c.Set(base.Add(4 * 24 * time.Hour))
	m := newManager(t, pool, c, Config{})
	require.NoError(t, m.CatchUp(ctx, "quarterly"))
	_, err = m.BuildTwins(ctx, TwinOptions{})
	require.NoError(t, err)

	for _, tbl := range derived.Families {
		if compressed := testenv.CompressChunks(t, pool, string(tbl), base.Add(3*24*time.Hour)); compressed >= 0 {
			require.Positive(t, compressed, "TimescaleDB compressed no chunk of %s", tbl)
		}
	}

	late := randomRows(rng, base, 3)
	byTable := map[derived.Family][][]string{}
	for _, a := range late {
		byTable[a.table] = append(byTable[a.table], a.row)
	}
	for _, tbl := range derived.Families {
		rows := byTable[tbl]
		half := len(rows) / 2
		insertRaw(ctx, t, pool, tbl, rows[:half])
		copyRaw(ctx, t, pool, tbl, rows[half:])
		_, err := pool.Exec(ctx, fmt.Sprintf(`UPDATE %s SET raw_count = 5 WHERE time >= $1 AND time < $2`, tbl),
			base.Add(30*time.Hour), base.Add(31*time.Hour))
		require.NoError(t, err)
		tag, err := pool.Exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE time >= $1 AND time < $2`, tbl),
			base.Add(50*time.Hour), base.Add(52*time.Hour))
		require.NoError(t, err)
		require.Positive(t, tag.RowsAffected(), "%s: nothing deleted", tbl)
	}
	var ranges int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM rollup_invalidations WHERE precision = 'quarterly'").Scan(&ranges))
	require.Equal(t, 4*len(derived.Families), ranges, "one range per late statement")

	require.NoError(t, m.CatchUp(ctx, "quarterly"))
	_, err = m.BuildTwins(ctx, TwinOptions{})
	require.NoError(t, err)
	for _, tbl := range derived.Families {
		for _, p := range derived.Rollups {
			require.Equal(t, oracle(ctx, t, pool, tbl, p), rollupRows(ctx, t, pool, tbl, p), "%s %s differs from a GROUP BY of the raw rows", tbl, p)
			if twin := totalsOf(tbl, p); twin != "" {
				require.Equal(t, totalsOracle(ctx, t, pool, tbl, p), totalsRows(ctx, t, pool, twin), "%s differs from a GROUP BY of the raw rows", twin)
			}
		}
	}
	requireTwinsComplete(ctx, t, pool)
}

// copyRaw writes rows (as insertRaw takes them) with COPY, the path of `sview ingest`.
func copyRaw(ctx context.Context, t *testing.T, pool *pgxpool.Pool, table derived.Family, rows [][]string) {
	t.Helper()
	var text strings.Builder
	for _, r := range rows {
		fields := make([]string, len(r))
		for i, v := range r {
			fields[i] = v
			if v == "-" {
				fields[i] = `\N`
			}
		}
		text.WriteString(strings.Join(fields, "\t") + "\n")
	}
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Conn().PgConn().CopyFrom(ctx, strings.NewReader(text.String()),
		fmt.Sprintf("COPY %s (%s) FROM STDIN", table, strings.Join(rawColumns(table), ", ")))
	require.NoError(t, err)
}
