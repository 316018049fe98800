package migrations_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/devserver"
	"github.com/sview-project/sview/internal/testenv"
	"github.com/sview-project/sview/migrations"
)

func tables(t *testing.T, url string) []string {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_name <> 'schema_migrations' ORDER BY 1`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

func TestUpDownUp(t *testing.T) {
	t.Parallel()
	url := testenv.EmptyDatabaseURL(t)

	require.NoError(t, migrations.Up(url))
	v, dirty, err := migrations.Version(url)
	require.NoError(t, err)
	require.False(t, dirty)
	require.Equal(t, migrations.Latest(), v)
	require.NoError(t, migrations.Check(v, dirty))
	first := tables(t, url)
	for _, want := range []string{
		"identity", "incidents", "passwords", "ports",
		"incidents_quarterly", "incidents_hourly", "incidents_daily",
		"passwords_quarterly", "passwords_hourly", "passwords_daily",
		"ports_quarterly", "ports_hourly", "ports_daily",
		"geo_prefixes", "rollup_watermarks", "rollup_invalidations", "job_runs",
		"greylist", "greylist_history", "passwords_pwned", "ingest_ledger",
	} {
		require.Contains(t, first, want)
	}

	require.NoError(t, migrations.Up(url), "a second up is a no-op")
	require.NoError(t, migrations.Down(url, 0))
	require.Empty(t, tables(t, url), "down removes every table")
	v, _, err = migrations.Version(url)
	require.NoError(t, err)
	require.Zero(t, v)

	require.NoError(t, migrations.Up(url))
	require.Equal(t, first, tables(t, url))
	require.Equal(t, preloadsTimescale(t, url), hypertable(t, url, "incidents"),
		"raw tables are hypertables exactly when the server preloads TimescaleDB, after down and up too")
	for _, raw := range []string{"incidents", "passwords", "ports", "feed_events", "commands"} {
		var kind string
		query(t, url, `SELECT relkind::text FROM pg_class WHERE oid = $1::regclass`, &kind, raw)
		require.Equal(t, map[bool]string{false: "p", true: "r"}[preloadsTimescale(t, url)], kind,
			"%s: partitioned by day exactly on plain PostgreSQL", raw)
	}
}

// preloadsTimescale tells whether the server at url preloads TimescaleDB, where the schema must
// take the TimescaleDB path.
func preloadsTimescale(t *testing.T, url string) bool {
	t.Helper()
	var preloaded bool
	query(t, url, `SELECT current_setting('shared_preload_libraries') LIKE '%timescaledb%'`, &preloaded)
	return preloaded
}

func hypertable(t *testing.T, url, table string) bool {
	t.Helper()
	var is bool
	query(t, url, `SELECT to_regclass('timescaledb_information.hypertables') IS NOT NULL
		AND EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')`, &is)
	if is {
		query(t, url, `SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = $1)`, &is, table)
	}
	return is
}

func query(t *testing.T, url, sql string, dest any, args ...any) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer c.Close(ctx)
	require.NoError(t, c.QueryRow(ctx, sql, args...).Scan(dest))
}

// A server with the TimescaleDB package installed but not preloaded fails CREATE EXTENSION with
// FATAL: the schema takes the plain path there, and the operator is told how to enable it.
func TestTimescaleNotPreloaded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pgroot, err := devserver.PGRoot("..")
	require.NoError(t, err)
	port, err := devserver.FreePort()
	require.NoError(t, err)
	s, err := devserver.TimescaleNotPreloaded(ctx, t.TempDir(), port, pgroot)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Stop()) }()

	require.NoError(t, migrations.Up(s.URL))
	require.False(t, hypertable(t, s.URL, "incidents"))
	state, err := migrations.Timescale(ctx, s.URL)
	require.NoError(t, err)
	require.Equal(t, migrations.TimescaleNotPreloaded, state)
	require.Contains(t, state.Advice(), "shared_preload_libraries")
}

func TestSchemaDetails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, testenv.DatabaseURL(t))
	require.NoError(t, err)
	defer c.Close(ctx)

	// The rollup key treats NULL dimensions as equal, so rewriting a bucket can never duplicate.
	_, err = c.Exec(ctx, `INSERT INTO identity (sn, device_token) VALUES ('0000000000000001', repeat('a', 64))`)
	require.NoError(t, err)
	ins := `INSERT INTO incidents_quarterly (time, raw_count, identity_id, trap, action, ip)
		VALUES ('2026-01-01 00:00Z', 1, 1, 'minipot_telnet', 'login', '192.0.2.1')`
	_, err = c.Exec(ctx, ins)
	require.NoError(t, err)
	_, err = c.Exec(ctx, ins)
	require.ErrorContains(t, err, "incidents_quarterly_key")

	// The extension enum values are there.
	var n int
	require.NoError(t, c.QueryRow(ctx, `SELECT count(*) FROM unnest(enum_range(NULL::trap_t)) v
		WHERE v::text IN ('faillogs', 'haas')`).Scan(&n))
	require.Equal(t, 2, n)

	// geo_lookup picks the most specific prefix.
	_, err = c.Exec(ctx, `INSERT INTO geo_prefixes (network, asn, country, as_name) VALUES
		('192.0.2.0/24', 64500, 'CZ', 'EXAMPLE-A'), ('192.0.2.128/25', 64501, 'SK', 'EXAMPLE-B')`)
	require.NoError(t, err)
	var asn int
	var cc string
	require.NoError(t, c.QueryRow(ctx, `SELECT asn, country FROM geo_lookup('192.0.2.200')`).Scan(&asn, &cc))
	require.Equal(t, 64501, asn)
	require.Equal(t, "SK", cc)

	// The roles exist and the reader may read but not write.
	require.NoError(t, c.QueryRow(ctx, `SELECT count(*) FROM pg_roles WHERE rolname IN ('sview_reader','sview_writer')`).Scan(&n))
	require.Equal(t, 2, n)
	var canRead, canWrite bool
	require.NoError(t, c.QueryRow(ctx, `SELECT has_table_privilege('sview_reader', 'incidents', 'SELECT'),
		has_table_privilege('sview_reader', 'incidents', 'INSERT')`).Scan(&canRead, &canWrite))
	require.True(t, canRead)
	require.False(t, canWrite)
}

// An existing database written by the original Sentinel dumper is migrated in place: raw rows
// stay, new columns are added empty, and the original keyless rollups are kept aside as _legacy
// for `sview backfill` to replace.
func TestUpOnOriginalSentinelDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.EmptyDatabaseURL(t)
	original, err := os.ReadFile("testdata/original_sentinel_schema.sql")
	require.NoError(t, err)
	c, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer c.Close(ctx)
	_, err = c.Exec(ctx, string(original))
	require.NoError(t, err)
	timescale := preloadsTimescale(t, url)
	if timescale {
		// The original Sentinel database keeps its raw tables as hypertables.
		for _, table := range []string{"incidents", "passwords", "ports"} {
			_, err = c.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS timescaledb;
				SELECT create_hypertable('`+table+`', 'time', migrate_data => true)`)
			require.NoError(t, err)
		}
	}

	require.NoError(t, migrations.Up(url))
	require.Equal(t, timescale, hypertable(t, url, "incidents"))
	if !timescale {
		// The original rows stay in place, as the partition of everything before the upgrade.
		var kept int
		require.NoError(t, c.QueryRow(ctx, `SELECT count(*) FROM incidents WHERE tableoid = 'incidents_legacy'::regclass`).Scan(&kept))
		require.Equal(t, 2, kept)
		var bound string
		require.NoError(t, c.QueryRow(ctx, `SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'incidents_legacy'`).Scan(&bound))
		require.Contains(t, bound, "FROM (MINVALUE)")
	}

	var incidents, legacy int
	require.NoError(t, c.QueryRow(ctx, `SELECT count(*) FROM incidents WHERE asn IS NULL`).Scan(&incidents))
	require.Equal(t, 2, incidents)
	require.NoError(t, c.QueryRow(ctx, `SELECT count(*) FROM incidents_quarterly_legacy`).Scan(&legacy))
	require.Equal(t, 2, legacy)
	var fresh int
	require.NoError(t, c.QueryRow(ctx, `SELECT count(*) FROM incidents_quarterly`).Scan(&fresh))
	require.Zero(t, fresh)
	// The extended columns accept rows from the new ingest path.
	_, err = c.Exec(ctx, `INSERT INTO passwords (time, username, password, identity_id, trap, ip)
		VALUES (now(), 'admin', '1234', 1, 'haas', '203.0.113.5')`)
	require.NoError(t, err)

	// Late rows into the adopted raw tables are recorded for recomputation, under the table's name.
	_, err = c.Exec(ctx, `INSERT INTO rollup_watermarks (source, precision, watermark) VALUES ('incidents', 'quarterly', now());
		INSERT INTO incidents (time, identity_id, trap, action, ip)
		VALUES (now() - interval '2 days', 1, 'fwlogs', 'connect', '192.0.2.1'), (now() - interval '1 day', 1, 'fwlogs', 'connect', '192.0.2.1')`)
	require.NoError(t, err)
	var recorded int
	require.NoError(t, c.QueryRow(ctx, `SELECT count(*) FROM rollup_invalidations
		WHERE source = 'incidents' AND to_time - from_time = interval '1 day'`).Scan(&recorded))
	require.Equal(t, 1, recorded, "one range for the statement")
}

// Reverting the partitioning (000070) keeps every raw row, and so does applying it again to a
// table with rows; neither records the rows as late.
func TestRawPartitionsDownAndUpKeepRows(t *testing.T) {
	t.Parallel()
	url := testenv.EmptyDatabaseURL(t)
	require.NoError(t, migrations.Up(url))
	if preloadsTimescale(t, url) {
		return // hypertables are not partitioned: 000070 changes nothing there
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer c.Close(ctx)
	_, err = c.Exec(ctx, `INSERT INTO identity (sn, device_token) VALUES ('0000000000000001', repeat('a', 64));
		INSERT INTO rollup_watermarks (source, precision, watermark) VALUES ('incidents', 'quarterly', now());
		INSERT INTO incidents (time, identity_id, trap, action, ip)
		SELECT now() - i * interval '5 hours', 1, 'fwlogs', 'connect', '192.0.2.1' FROM generate_series(0, 99) i;
		DELETE FROM rollup_invalidations`)
	require.NoError(t, err)
	count := func(q string) int {
		var n int
		require.NoError(t, c.QueryRow(ctx, q).Scan(&n))
		return n
	}
	for { // down to the last schema without partitions
		v, _, err := migrations.Version(url)
		require.NoError(t, err)
		if v < 70 {
			require.Equal(t, uint(61), v)
			break
		}
		require.NoError(t, migrations.Down(url, 1))
	}
	require.Equal(t, "r", func() string {
		var k string
		require.NoError(t, c.QueryRow(ctx, `SELECT relkind::text FROM pg_class WHERE oid = 'incidents'::regclass`).Scan(&k))
		return k
	}())
	require.Equal(t, 100, count("SELECT count(*) FROM incidents"))
	require.NoError(t, migrations.Up(url))
	require.Equal(t, 100, count("SELECT count(*) FROM incidents"))
	require.Positive(t, count("SELECT count(*) FROM incidents WHERE tableoid = 'incidents_legacy'::regclass"),
		"the rows before today are kept as one partition")
	require.Zero(t, count("SELECT count(*) FROM rollup_invalidations"), "no row was recorded as late")
	// The triggers moved with the table both ways: a new late row is recorded.
	_, err = c.Exec(ctx, `INSERT INTO incidents (time, identity_id, trap, action, ip) VALUES (now() - interval '1 day', 1, 'fwlogs', 'connect', '192.0.2.1')`)
	require.NoError(t, err)
	require.Equal(t, 1, count("SELECT count(*) FROM rollup_invalidations"))
}
