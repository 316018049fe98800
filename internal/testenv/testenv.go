// Package testenv gives tests isolated, migrated PostgreSQL databases and Redis key spaces on
// the servers that `go tool mage test` provides.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/sview-project/sview/migrations"
)

const (
	defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	defaultRedisURL    = "redis://127.0.0.1:6379/0"
	howToStart         = "run the tests with `go tool mage test`, which starts throwaway servers when none answer, " +
		"or point SVIEW_TEST_DATABASE_URL / SVIEW_TEST_REDIS_URL at running ones"
)

// AdminURL is the server the test databases are created on.
func AdminURL() string {
	if u := os.Getenv("SVIEW_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultDatabaseURL
}

// RedisURL is the Redis server tests use; it fails the test when nothing answers there.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("SVIEW_TEST_REDIS_URL")
	if u == "" {
		u = defaultRedisURL
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("SVIEW_TEST_REDIS_URL %q: %v", u, err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s does not answer (%v): %s", u, err, howToStart)
	}
	return u
}

// KeyPrefix is a Redis key prefix of this test alone, so tests sharing a server never collide.
func KeyPrefix(t testing.TB) string {
	return "sviewtest:" + randomSuffix() + ":"
}

// DatabaseURL creates a fresh database at the latest schema version for this test and drops it
// when the test ends.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	return create(t, true)
}

// EmptyDatabaseURL creates a fresh database with no schema at all, for migration tests.
func EmptyDatabaseURL(t testing.TB) string {
	t.Helper()
	return create(t, false)
}

// Pool opens a pool on a fresh migrated database.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return open(t, DatabaseURL(t))
}

// TimescalePool opens a pool on a fresh migrated database on the TimescaleDB server named by
// SVIEW_TEST_TIMESCALE_URL, for what compares sview with TimescaleDB's own features; it fails
// the test when none is named.
func TimescalePool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	admin := os.Getenv("SVIEW_TEST_TIMESCALE_URL")
	if admin == "" {
		t.Fatalf("SVIEW_TEST_TIMESCALE_URL is not set: %s", howToStart)
	}
	return open(t, createOn(t, admin, true))
}

func open(t testing.TB, u string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), u)
	if err != nil {
		t.Fatalf("open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func create(t testing.TB, migrated bool) string {
	t.Helper()
	return createOn(t, AdminURL(), migrated)
}

func createOn(t testing.TB, adminURL string, migrated bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("PostgreSQL at %s does not answer (%v): %s", redact(adminURL), err, howToStart)
	}
	defer admin.Close(ctx)

	name := "sview_t_" + randomSuffix()
	stmt := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if migrated {
		tmpl, err := ensureTemplate(ctx, admin, adminURL)
		if err != nil {
			t.Fatalf("prepare template database: %v", err)
		}
		stmt += " TEMPLATE " + pgx.Identifier{tmpl}.Sanitize()
	}
	if err := createLocked(ctx, admin, stmt); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return withDatabase(adminURL, name)
}

// templateLock serialises template creation and cloning across test processes: CREATE DATABASE
// … TEMPLATE fails while another session is connected to the template.
const templateLock = 7_246_001

func createLocked(ctx context.Context, admin *pgx.Conn, stmt string) error {
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return err
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", templateLock)
	_, err := admin.Exec(ctx, stmt)
	return err
}

func ensureTemplate(ctx context.Context, admin *pgx.Conn, adminURL string) (string, error) {
	// The suffix changes with how a template is prepared (v2: policies paused), so a template
	// an older checkout made is not reused.
	name := "sview_tmpl_" + migrations.Fingerprint() + "_v2"
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", templateLock)
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{building}.Sanitize()+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize()); err != nil {
		return "", err
	}
	if err := migrations.Up(withDatabase(adminURL, building)); err != nil {
		return "", err
	}
	if err := pausePolicies(ctx, withDatabase(adminURL, building)); err != nil {
		return "", err
	}
	// TimescaleDB's launcher starts a job scheduler in every database that has the extension and
	// allows connections, and CREATE DATABASE … TEMPLATE and RENAME both fail (55006) while
	// anything is connected. Closing the template to connections keeps the launcher out; the
	// scheduler it may already have started there is ended.
	if err := closeToConnections(ctx, admin, building); err != nil {
		return "", err
	}
	// Renamed only once complete, so a crash never leaves a half-migrated template behind.
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{building}.Sanitize()+" RENAME TO "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return name, nil
}

// pausePolicies unschedules TimescaleDB's compression policies in a test database: in every
// clone a policy would run whenever its next start passes, compressing chunks under a test at
// random. Tests compress when they mean to (CompressChunks).
func pausePolicies(ctx context.Context, url string) error {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	var timescale bool
	if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')").Scan(&timescale); err != nil || !timescale {
		return err
	}
	_, err = c.Exec(ctx, `SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs
		WHERE proc_name = 'policy_compression'`)
	return err
}

func closeToConnections(ctx context.Context, admin *pgx.Conn, db string) error {
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return err
	}
	_, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", db)
	return err
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

func redact(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Redacted()
	}
	return u
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}

// CompressChunks compresses every chunk of a TimescaleDB hypertable that ends before until, as
// its compression policy would, and returns how many it compressed; on plain PostgreSQL it
// returns -1, so tests of late writes run the same on both databases and reach compressed
// chunks where there are any.
func CompressChunks(tb testing.TB, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, table string, until time.Time) int {
	tb.Helper()
	ctx := context.Background()
	var timescale bool
	if err := db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')").Scan(&timescale); err != nil {
		tb.Fatalf("detect TimescaleDB: %v", err)
	}
	if !timescale {
		return -1
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT count(compress_chunk(c)) FROM show_chunks($1::regclass, older_than => $2::timestamptz) c`,
		table, until).Scan(&n); err != nil {
		tb.Fatalf("compress chunks of %s: %v", table, err)
	}
	return n
}

// BenchScale reads SVIEW_BENCH_SCALE, the share of the issues' full benchmark sizes to run
// (default 1); a value that is not a positive number fails the benchmark.
func BenchScale(tb testing.TB) float64 {
	tb.Helper()
	s := os.Getenv("SVIEW_BENCH_SCALE")
	if s == "" {
		return 1
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		tb.Fatalf("SVIEW_BENCH_SCALE %q: want a positive number", s)
	}
	return f
}
