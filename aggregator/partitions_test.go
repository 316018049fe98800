package aggregator

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// partitionRows lists the partitions of a raw table that hold rows, with their counts.
func partitionRows(ctx context.Context, t *testing.T, pool *pgxpool.Pool, table string) map[string]int {
	t.Helper()
	rows, err := pool.Query(ctx, "SELECT tableoid::regclass::text, count(*)::int FROM "+table+" GROUP BY 1")
	require.NoError(t, err)
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		require.NoError(t, rows.Scan(&name, &n))
		out[name] = n
	}
	require.NoError(t, rows.Err())
	return out
}

func partitionNames(ctx context.Context, t *testing.T, pool *pgxpool.Pool, table string) []string {
	t.Helper()
	rows, err := pool.Query(ctx, "SELECT partition::text FROM raw_partitions($1) ORDER BY 1", table)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

// On plain PostgreSQL the raw tables are partitioned by day: rows of a day without its
// partition wait in the default partition until the partitions job moves them into theirs,
// unseen by the late-row triggers, and retention then drops whole days. TimescaleDB keeps its
// hypertables, which the job leaves alone; both keep the same rows.
func TestPartitionsByDay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, m := fourDaysRolledUp(ctx, t, "incidents=2d")

	var partitioned bool
	require.NoError(t, pool.QueryRow(ctx, "SELECT relkind = 'p' FROM pg_class WHERE oid = 'incidents'::regclass").Scan(&partitioned))
	require.Equal(t, !timescale(ctx, t, pool), partitioned, "partitioned exactly on plain PostgreSQL")

	status := func() []PartitionStat {
		s, err := PartitionStatus(ctx, pool)
		require.NoError(t, err)
		if partitioned {
			require.Len(t, s, 5, "every raw table")
			require.Equal(t, "incidents", s[0].Table)
			return s
		}
		require.Empty(t, s)
		return nil
	}
	if partitioned {
		require.Equal(t, int64(4*24*6), status()[0].Waiting)
	}
	moved, err := m.MaintainPartitions(ctx)
	require.NoError(t, err)
	if !partitioned {
		require.Zero(t, moved, "hypertables are left to TimescaleDB")
		status()
	} else {
		s := status()[0]
		require.Zero(t, s.Waiting)
		require.Equal(t, day1, s.From.UTC())
		require.GreaterOrEqual(t, s.Days, 4+3, "the four seeded days and the clock's three")
		require.Nil(t, s.Legacy, "a fresh database has no rows from before the upgrade")
		require.Equal(t, int64(4*24*6), moved, "every seeded row moved out of the default partition")
		require.Equal(t, map[string]int{
			"incidents_p20240501": 144, "incidents_p20240502": 144, "incidents_p20240503": 144, "incidents_p20240504": 144,
		}, partitionRows(ctx, t, pool, "incidents"))
		names := partitionNames(ctx, t, pool, "incidents")
		for _, ahead := range []string{"incidents_p20240505", "incidents_p20240506", "incidents_p20240507", "incidents_default"} {
			require.Contains(t, names, ahead, "the clock's day and the next two are made ahead")
		}
		var late int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM rollup_invalidations").Scan(&late))
		require.Zero(t, late, "moved rows are not late rows")
		again, err := m.MaintainPartitions(ctx)
		require.NoError(t, err)
		require.Zero(t, again, "a second run has nothing to do")
	}

	// A late row through the partitioned table is still seen by its triggers.
	_, err = pool.Exec(ctx, `INSERT INTO incidents (time, identity_id, trap, action, ip)
		VALUES ($1, 1, 'fwlogs', 'connect', '192.0.2.1')`, day1.Add(50*time.Hour))
	require.NoError(t, err)
	var late int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM rollup_invalidations WHERE source = 'incidents'").Scan(&late))
	require.Equal(t, 1, late)
	require.NoError(t, m.CatchUp(ctx, "quarterly"))

	deleted, err := m.ApplyRetention(ctx)
	require.NoError(t, err)
	var first time.Time
	var rows int
	require.NoError(t, pool.QueryRow(ctx, "SELECT min(time), count(*) FROM incidents").Scan(&first, &rows))
	require.Equal(t, day1.Add(2*24*time.Hour), first.UTC(), "cut at now − 2 days on both databases")
	require.Equal(t, 2*144+1, rows)
	if partitioned {
		require.Zero(t, deleted, "whole days were dropped, no row deleted")
		names := partitionNames(ctx, t, pool, "incidents")
		require.NotContains(t, names, "incidents_p20240501")
		require.NotContains(t, names, "incidents_p20240502")
		require.Contains(t, names, "incidents_p20240503")
	}
}

func timescale(ctx context.Context, t testing.TB, pool *pgxpool.Pool) bool {
	t.Helper()
	var is bool
	require.NoError(t, pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')").Scan(&is))
	return is
}

// Readers and writers of a raw table never miss a row while the partitions job moves rows
// out of its default partition: a query planned before a new partition was attached would not
// scan it, so making one takes the table from them for that moment.
func TestPartitionsMoveUnderReaders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, m := fourDaysRolledUp(ctx, t, "incidents=30d")
	if timescale(ctx, t, pool) {
		return // hypertables have no default partition to move rows from
	}
	const want = 4 * 24 * 6
	stop := make(chan struct{})
	counts := make(chan []int, 2)
	for range 2 {
		go func() {
			var wrong []int
			for {
				select {
				case <-stop:
					counts <- wrong
					return
				default:
				}
				var n int
				if err := pool.QueryRow(ctx, "SELECT count(*) FROM incidents WHERE time >= $1", day1).Scan(&n); err == nil && n != want {
					wrong = append(wrong, n)
				}
			}
		}()
	}
	moved, err := m.MaintainPartitions(ctx)
	close(stop)
	require.NoError(t, err)
	require.Equal(t, int64(want), moved)
	for range 2 {
		require.Empty(t, <-counts, "a reader saw another count than %d while rows moved", want)
	}
}
