package aggregator

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/testenv"
)

// TestReaderCannotStallWriters: a session of the reader role (Grafana's credential) takes
// every lock it can, the advisory locks writers once coordinated with and a lock on every
// table it may read, and holds them; an ingest with late rows (the trigger path) and a rollup
// step and a job still run within a second.
func TestReaderCannotStallWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	now := time.Now().UTC().Truncate(time.Minute)
	_, err := pool.Exec(ctx, `INSERT INTO rollup_watermarks (source, precision, watermark) VALUES ('incidents', 'quarterly', $1)`,
		now.Add(-time.Hour).Truncate(15*time.Minute))
	require.NoError(t, err)
	var probe int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO identity (sn, device_token) VALUES ('0000000000000001', repeat('ab', 32)) RETURNING id`).Scan(&probe))

	cfg := pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["role"] = "sview_reader"
	reader, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	defer reader.Close(ctx)
	_, err = reader.Exec(ctx, "BEGIN")
	require.NoError(t, err)
	var keys [][2]int32
	for k := range int32(len(derived.Families) * len(derived.Rollups)) {
		keys = append(keys, [2]int32{rollupstate.ClassWorker, k}, [2]int32{rollupstate.ClassInput, k})
	}
	for _, job := range []string{"twins", "retention", "greylist", "leak", "reader-test"} {
		keys = append(keys, [2]int32{rollupstate.ClassJob, rollupstate.JobKey(job)})
	}
	keys = append(keys, [2]int32{rollupstate.ClassLeak, 0}, [2]int32{rollupstate.ClassGreylist, 0}, [2]int32{rollupstate.ClassLedger, 1})
	for _, k := range keys {
		_, err := reader.Exec(ctx, "SELECT pg_advisory_lock($1, $2)", k[0], k[1])
		require.NoError(t, err, "any role may take an advisory lock; no writer waits on one now")
	}
	_, err = reader.Exec(ctx, "SELECT pg_advisory_lock(x'5f67726579'::bigint)") // the greylist's old key
	require.NoError(t, err)
	rows, err := reader.Query(ctx, `SELECT format('%I', tablename) FROM pg_tables WHERE schemaname = 'public'
		AND has_table_privilege(format('%I.%I', schemaname, tablename), 'SELECT')`)
	require.NoError(t, err)
	readable, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Contains(t, readable, "incidents")
	require.NotContains(t, readable, "sview_locks")
	for _, table := range readable {
		_, err := reader.Exec(ctx, "LOCK TABLE "+table+" IN ACCESS SHARE MODE")
		require.NoError(t, err, table)
	}
	for _, denied := range []string{
		"SELECT 1 FROM sview_locks FOR UPDATE",
		"SELECT 1 FROM sview_locks FOR KEY SHARE",
		"LOCK TABLE sview_locks IN ACCESS SHARE MODE",
		"LOCK TABLE incidents IN ROW SHARE MODE",
		"SELECT sview_xact_lock_shared(1398165505, 0)",
		"SELECT 1 FROM identity FOR SHARE",
		"SELECT device_token FROM identity",
	} {
		_, err := reader.Exec(ctx, "SAVEPOINT try")
		require.NoError(t, err)
		_, err = reader.Exec(ctx, denied)
		var pgErr *pgconn.PgError
		require.True(t, errors.As(err, &pgErr) && pgErr.Code == "42501", "%s: want permission denied, got %v", denied, err)
		_, err = reader.Exec(ctx, "ROLLBACK TO SAVEPOINT try")
		require.NoError(t, err)
	}

	within := func(what string, fn func(ctx context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		start := time.Now()
		require.NoError(t, fn(ctx), what)
		require.Less(t, time.Since(start), time.Second, what)
	}
	within("a late ingest", func(ctx context.Context) error {
		_, err := pool.Exec(ctx, `INSERT INTO incidents (time, identity_id, trap, action, ip)
			VALUES ($1, $3, 'minipot_telnet', 'login', '192.0.2.1'), ($2, $3, 'minipot_telnet', 'login', '192.0.2.2')`,
			now.Add(-2*time.Hour), now.Add(-time.Minute), probe)
		return err
	})
	var late int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM rollup_invalidations WHERE source = 'incidents'`).Scan(&late))
	require.Equal(t, 1, late, "the trigger recorded the late row")
	m := newManager(t, pool, &clock{t: now}, Config{})
	within("a rollup step", func(ctx context.Context) error {
		res, err := m.runStep(ctx, key("incidents", "quarterly"), stepOptions{})
		if err == nil && res.Skipped {
			err = errors.New("skipped: the worker lock was held")
		}
		return err
	})
	within("a job", func(ctx context.Context) error {
		ran := false
		err := m.runJob(ctx, "reader-test", func(context.Context) (int64, error) { ran = true; return 0, nil })
		if err == nil && !ran {
			err = errors.New("skipped: the job lock was held")
		}
		return err
	})
}
