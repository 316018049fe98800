package aggregator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/testenv"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// clock is a settable time source shared by the Managers of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func newManager(t testing.TB, pool *pgxpool.Pool, c *clock, cfg Config) *Manager {
	t.Helper()
	cfg.Now = c.Now
	m, err := New(pool, cfg)
	require.NoError(t, err)
	return m
}

// rawColumns are the columns of a raw row as the test data lists them.
func rawColumns(table derived.Family) []string {
	return slices.Concat([]string{"time"}, dimensions(table), []string{"country", "asn", "raw_count"})
}

// insertRaw writes rows (values in rawColumns order, "-" for NULL) into a raw table in one
// statement, so the statement-level late-data trigger sees them together.
func insertRaw(ctx context.Context, t testing.TB, pool *pgxpool.Pool, table derived.Family, rows [][]string) {
	t.Helper()
	require.NoError(t, tryInsertRaw(ctx, pool, table, rows))
}

// tryInsertRaw is insertRaw for goroutines other than the test's.
func tryInsertRaw(ctx context.Context, pool *pgxpool.Pool, table derived.Family, rows [][]string) error {
	if len(rows) == 0 {
		return nil
	}
	cols := rawColumns(table)
	var values []string
	var args []any
	for _, r := range rows {
		if len(r) != len(cols) {
			return fmt.Errorf("row %v of %s: want columns %v", r, table, cols)
		}
		ph := make([]string, len(r))
		for i, v := range r {
			if v == "-" {
				args = append(args, nil)
			} else {
				args = append(args, v)
			}
			ph[i] = fmt.Sprintf("$%d::%s", len(args), columnType(cols[i]))
		}
		values = append(values, "("+strings.Join(ph, ", ")+")")
	}
	_, err := pool.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", table, strings.Join(cols, ", "), strings.Join(values, ", ")), args...)
	if err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return nil
}

func columnType(col string) string {
	return map[string]string{"time": "timestamptz", "identity_id": "bigint", "trap": "trap_t", "action": "action_t",
		"ip": "inet", "country": "varchar", "asn": "integer", "raw_count": "bigint", "username": "text",
		"password": "text", "port": "integer", "protocol": "protocol_t", "provider": "text", "feed": "text",
		"taxonomy": "text", "type": "text", "identifier": "text", "command": "text"}[col]
}

// setupProbes creates the identities the test data refers to (ids 1..n).
func setupProbes(ctx context.Context, t testing.TB, pool *pgxpool.Pool, n int) {
	t.Helper()
	_, err := pool.Exec(ctx, `INSERT INTO identity (id, sn, device_token)
		SELECT i, 'sn' || i, lpad(to_hex(i), 64, '0') FROM generate_series(1, $1) i`, n)
	require.NoError(t, err)
}

// selectList renders the columns of a table in test order, with addresses as bare text.
func selectList(table derived.Family) string {
	cols := rawColumns(table)
	for i, c := range cols {
		if c == "ip" {
			cols[i] = "host(ip)"
		}
	}
	return strings.Join(cols, ", ")
}

// rollupRows reads a rollup table as sorted text rows in rawColumns order.
func rollupRows(ctx context.Context, t testing.TB, pool *pgxpool.Pool, table derived.Family, precision period.Precision) []string {
	t.Helper()
	return textRows(ctx, t, pool, fmt.Sprintf("SELECT %s FROM %s", selectList(table), tableOf(table, precision)))
}

// textRows runs a query and renders each row as space-separated text ("-" for NULL, times in
// UTC RFC 3339), sorted.
func textRows(ctx context.Context, t testing.TB, pool *pgxpool.Pool, query string, args ...any) []string {
	t.Helper()
	rows, err := pool.Query(ctx, query, args...)
	require.NoError(t, err, query)
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		require.NoError(t, err)
		parts := make([]string, len(vals))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				parts[i] = "-"
			case time.Time:
				parts[i] = x.UTC().Format(time.RFC3339)
			default:
				parts[i] = fmt.Sprint(x)
			}
		}
		out = append(out, strings.Join(parts, " "))
	}
	require.NoError(t, rows.Err())
	slices.Sort(out)
	return out
}

// tableOf names the rollup of a family at a precision (the raw table at raw).
func tableOf(f derived.Family, p period.Precision) string { return derived.RollupOf(f).Name(p) }

// totalsOf names the totals table of a family at a precision, "" when the family has none.
func totalsOf(f derived.Family, p period.Precision) string {
	if t, ok := derived.Find(derived.Totals, f); ok {
		return t.Name(p)
	}
	return ""
}

func bucket(p period.Precision) time.Duration { return p.Step() }

func key(f derived.Family, p period.Precision) rollupstate.Key {
	return rollupstate.Key{Table: f, Precision: p}
}

// rankedTwins lists every ranked twin of every family.
func rankedTwins() []derived.Table {
	var out []derived.Table
	for _, f := range derived.Families {
		out = append(out, derived.Of(derived.Ranked, f)...)
	}
	return out
}

// fourDaysRolledUp seeds four days of incidents from day1, rolled up at the clock's day 5, on a
// fresh database whose manager applies the retention given.
func fourDaysRolledUp(ctx context.Context, t *testing.T, retention string) (*pgxpool.Pool, *Manager) {
	t.Helper()
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 3)
	c := &clock{}
	c.Set(day1.Add(4 * 24 * time.Hour))
	ret, err := ParseRetention(retention)
	require.NoError(t, err)
	m := newManager(t, pool, c, Config{Retention: ret})
	seedIncidents(ctx, t, m, day1, 4*24)
	require.NoError(t, m.CatchUp(ctx, "quarterly"))
	return pool, m
}
