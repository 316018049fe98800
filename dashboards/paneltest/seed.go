// Package paneltest runs the queries of dashboards and alert rules through the plugin backend
// against a seeded database, and checks that each result has the shape its panel or rule
// needs. It serves the tests of dashboards/ and provisioning/.
package paneltest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/aggregator"
	"github.com/sview-project/sview/internal/demo"
	"github.com/sview-project/sview/internal/greylist"
	"github.com/sview-project/sview/internal/leak"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/testenv"
)

// Samples are values of the seeded data for dashboard variables, chosen the way a user would
// pick them from the variable lists: the busiest ones.
type Samples struct {
	Probes    []string // identity ids
	ASN       string
	Countries []string
	IP        string
	Password  string
	Prefix    string // 5 hex digits of the SHA-1 of Password
	Tags      []string
	// Taxonomies and Feeds are every value of the feed events within the dashboards' default
	// range, the week before now: what $taxonomy and $feed's default, All, stands for.
	Taxonomies []string
	Feeds      []string
}

// DefaultRange is the dashboards' default time range (now-7d).
const DefaultRange = 7 * 24 * time.Hour

// Size of the seeded traffic: enough days for the Month period, few enough rows to seed in
// about a second.
const (
	HistoryDays   = 31
	HistoryPerDay = 300
	LastDayPerDay = 6000
)

// Seed fills a freshly migrated database with demo traffic (internal/demo) ending at now, rolls
// it up with the aggregator, builds a week of greylist snapshots, records leaked passwords, and
// returns sample values for the dashboards' variables.
func Seed(ctx context.Context, pool *pgxpool.Pool, now time.Time) (Samples, error) {
	// A month of light history, then a busy last day: the Hour period reads raw rows of the
	// last hour only, which light traffic with its daily cycle may leave empty.
	for _, o := range []demo.Options{
		{Days: HistoryDays, PerDay: HistoryPerDay, End: now.Add(-24 * time.Hour)},
		{Days: 1, PerDay: LastDayPerDay, End: now},
	} {
		o.Seed, o.Probes = 1, 12
		if _, err := demo.Seed(ctx, pool, o); err != nil {
			return Samples{}, fmt.Errorf("demo seed of %d days: %w", o.Days, err)
		}
	}
	if err := seedRising(ctx, pool, now); err != nil {
		return Samples{}, err
	}
	// Large batches: the seed is small, and fewer transactions keep the test fast.
	agg, err := aggregator.New(pool, aggregator.Config{
		Now:   func() time.Time { return now },
		Batch: map[period.Precision]time.Duration{"quarterly": 10 * 24 * time.Hour, "hourly": 40 * 24 * time.Hour, "daily": 400 * 24 * time.Hour},
	})
	if err != nil {
		return Samples{}, fmt.Errorf("aggregator: %w", err)
	}
	if err := agg.CatchUp(ctx, "quarterly"); err != nil {
		return Samples{}, fmt.Errorf("roll up: %w", err)
	}
	for d := 7; d >= 0; d-- {
		if _, err := greylist.Build(ctx, pool, greylist.Options{MinProbes: 2, Now: now.AddDate(0, 0, -d)}); err != nil {
			return Samples{}, fmt.Errorf("greylist snapshot %d days ago: %w", d, err)
		}
	}
	// The most used passwords are known leaks, as they are in reality.
	rows, err := pool.Query(ctx, `SELECT password FROM passwords GROUP BY password ORDER BY sum(raw_count) DESC LIMIT 4`)
	if err != nil {
		return Samples{}, fmt.Errorf("top passwords: %w", err)
	}
	top, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return Samples{}, fmt.Errorf("top passwords: %w", err)
	}
	for i, pw := range top {
		h := leak.HashPassword(pw) // the HIBP SHA-1, as the store keeps it
		if _, err := pool.Exec(ctx, `INSERT INTO passwords_pwned (hash, count, sources) VALUES ($1, $2, '{telnet,ftp}')`,
			h[:], 1000/(i+1)); err != nil {
			return Samples{}, fmt.Errorf("leaked passwords: %w", err)
		}
	}
	return samples(ctx, pool, now)
}

// seedRising adds one attacker whose traffic grows by the same step every whole day of the
// last two weeks: its address, ASN, country, trap, password and port rise whatever the hour of
// the run, so every table of the Rising dashboard has a row (the demo traffic alone rises or
// falls with the time of day the test starts at).
func seedRising(ctx context.Context, pool *pgxpool.Pool, now time.Time) error {
	const attacker = `'203.0.113.77', 'NZ', 64511`
	midnight := now.UTC().Truncate(24 * time.Hour)
	for _, sql := range []string{
		`INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
			SELECT $1::timestamptz - d * interval '1 day' + interval '12 hours', (15 - d) * 4,
				(SELECT min(id) FROM identity), 'minipot_telnet', 'login', ` + attacker + `
			FROM generate_series(1, 14) d`,
		`INSERT INTO passwords (time, raw_count, username, password, identity_id, trap, ip, country, asn)
			SELECT $1::timestamptz - d * interval '1 day' + interval '12 hours', (15 - d) * 4, 'root', 'rising-2026',
				(SELECT min(id) FROM identity), 'minipot_telnet', ` + attacker + `
			FROM generate_series(1, 14) d`,
		`INSERT INTO ports (time, raw_count, port, protocol, identity_id, ip, country, asn)
			SELECT $1::timestamptz - d * interval '1 day' + interval '12 hours', (15 - d) * 4, 2323, 'TCP',
				(SELECT min(id) FROM identity), ` + attacker + `
			FROM generate_series(1, 14) d`,
	} {
		if _, err := pool.Exec(ctx, sql, midnight); err != nil {
			return fmt.Errorf("seed the rising attacker: %w", err)
		}
	}
	// It also logs in with a password and scans every 5 minutes of the last hour: the Hour
	// period reads raw rows, which the demo's night hours may leave without a password.
	for _, sql := range []string{`INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
			SELECT $1::timestamptz - m * interval '5 minutes', 1, (SELECT min(id) FROM identity), 'minipot_telnet', 'login', ` + attacker + `
			FROM generate_series(1, 12) m`,
		`INSERT INTO passwords (time, raw_count, username, password, identity_id, trap, ip, country, asn)
			SELECT $1::timestamptz - m * interval '5 minutes', 1, 'root', 'rising-2026', (SELECT min(id) FROM identity), 'minipot_telnet', ` + attacker + `
			FROM generate_series(1, 12) m`,
		`INSERT INTO ports (time, raw_count, port, protocol, identity_id, ip, country, asn)
			SELECT $1::timestamptz - m * interval '5 minutes', 1, 2323, 'TCP', (SELECT min(id) FROM identity), ` + attacker + `
			FROM generate_series(1, 12) m`,
	} {
		if _, err := pool.Exec(ctx, sql, now); err != nil {
			return fmt.Errorf("seed the rising attacker's last hour: %w", err)
		}
	}
	return nil
}

func samples(ctx context.Context, pool *pgxpool.Pool, now time.Time) (Samples, error) {
	var s Samples
	var asn int64
	week := "'" + now.Add(-DefaultRange).Format(time.RFC3339Nano) + "'"
	queries := []struct {
		what string
		sql  string
		dst  any
	}{
		{"probes", `SELECT array_agg(id::text ORDER BY id) FROM (SELECT id FROM identity ORDER BY id LIMIT 2) p`, &s.Probes},
		{"asn", `SELECT asn FROM incidents WHERE asn IS NOT NULL GROUP BY asn ORDER BY sum(raw_count) DESC LIMIT 1`, &asn},
		{"countries", `SELECT array_agg(country ORDER BY n DESC) FROM (SELECT country, sum(raw_count) n FROM incidents WHERE country IS NOT NULL GROUP BY country ORDER BY n DESC LIMIT 2) c`, &s.Countries},
		{"ip", `SELECT host(ip) FROM incidents GROUP BY ip ORDER BY sum(raw_count) DESC LIMIT 1`, &s.IP},
		{"password", `SELECT password FROM passwords WHERE password <> '' GROUP BY password ORDER BY sum(raw_count) DESC LIMIT 1`, &s.Password},
		{"tags", `SELECT array_agg(DISTINCT t ORDER BY t) FROM greylist, unnest(tags) t`, &s.Tags},
		{"taxonomies", `SELECT array_agg(DISTINCT taxonomy ORDER BY taxonomy) FROM feed_events WHERE time >= ` + week, &s.Taxonomies},
		{"feeds", `SELECT array_agg(DISTINCT feed ORDER BY feed) FROM feed_events WHERE time >= ` + week, &s.Feeds},
	}
	for _, q := range queries {
		if err := pool.QueryRow(ctx, q.sql).Scan(q.dst); err != nil {
			return Samples{}, fmt.Errorf("sample %s: %w", q.what, err)
		}
	}
	s.ASN = strconv.FormatInt(asn, 10)
	h := leak.HashPassword(s.Password)
	s.Prefix = fmt.Sprintf("%x", h[:3])[:5]
	if len(s.Tags) == 0 {
		return Samples{}, fmt.Errorf("sample tags: the greylist is empty")
	}
	if len(s.Taxonomies) == 0 {
		return Samples{}, fmt.Errorf("sample taxonomies: the demo made no feed events")
	}
	return s, nil
}

// SeededDatabase is a fresh test database (internal/testenv) seeded by Seed with traffic
// ending at now; it returns the database URL and the sample values.
func SeededDatabase(t testing.TB, now time.Time) (string, Samples) {
	t.Helper()
	ctx := context.Background()
	url := testenv.DatabaseURL(t)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	s, err := Seed(ctx, pool, now)
	require.NoError(t, err)
	return url, s
}
