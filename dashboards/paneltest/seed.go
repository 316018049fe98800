// Package paneltest runs the queries of dashboards and alert rules through the plugin backend
// against a seeded database, and checks that each result has the shape its panel or rule
// needs. It serves the tests of dashboards/ and provisioning/.
package paneltest

import (
	"context"
	"crypto/sha1"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/aggregator"
	"github.com/sview-project/sview/internal/greylist"
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
}

// seedSQL writes 40 days of traffic: six probes, attackers in three prefixes with a long-tailed
// share (most from the Czech one), every trap with its actions, passwords and port scans that
// name their attacker, and geo prefixes with AS names. Volumes are modest (about 10k rows per
// table) so a test seeds in well under a second.
const seedSQL = `
INSERT INTO identity (sn, device_token)
SELECT 'demo-' || lpad(i::text, 4, '0'), lpad(to_hex(i), 64, '0') FROM generate_series(1, 6) i;

INSERT INTO geo_prefixes (network, asn, country, as_name) VALUES
    ('198.51.100.0/24', 64500, 'CZ', 'EXAMPLE-CZ'),
    ('203.0.113.0/24',  64501, 'US', 'EXAMPLE-US'),
    ('192.0.2.0/24',    64502, 'DE', 'EXAMPLE-DE');

CREATE TEMP TABLE seed_attackers AS
SELECT n AS k,
       CASE WHEN n % 10 < 6 THEN '198.51.100.' WHEN n % 10 < 9 THEN '203.0.113.' ELSE '192.0.2.' END
           || (1 + (n * n) % 40) AS ip,
       CASE WHEN n % 10 < 6 THEN 'CZ' WHEN n % 10 < 9 THEN 'US' ELSE 'DE' END AS country,
       CASE WHEN n % 10 < 6 THEN 64500 WHEN n % 10 < 9 THEN 64501 ELSE 64502 END AS asn
FROM generate_series(0, 99) n;

INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
SELECT $1::timestamptz - n * interval '6 minutes',
       1 + n % 3,
       1 + (n * 7) % 6,
       t.trap::trap_t,
       t.action::action_t,
       a.ip::inet, a.country, a.asn
FROM generate_series(1, 40 * 240) n
JOIN seed_attackers a ON a.k = (n * 31) % 100
JOIN (VALUES (0, 'minipot_telnet', 'login'), (1, 'minipot_telnet', 'connect'), (2, 'minipot_ftp', 'login'),
             (3, 'minipot_http', 'message'), (4, 'minipot_smtp', 'invalid'), (5, 'fwlogs', 'small_port_scan'),
             (6, 'fwlogs', 'big_port_scan')) AS t(k, trap, action) ON t.k = n % 7;

INSERT INTO passwords (time, raw_count, username, password, identity_id, trap, ip, country, asn)
SELECT $1::timestamptz - n * interval '9 minutes',
       1,
       (ARRAY['root', 'admin', 'user', 'support', 'pi'])[1 + (n * n) % 5],
       (ARRAY['123456', '123456', '123456', 'admin', 'admin', 'password', 'root', '12345', 'qwerty', 'letmein'])[1 + (n * 3) % 10],
       1 + (n * 5) % 6,
       (ARRAY['minipot_telnet', 'minipot_ftp'])[1 + n % 2]::trap_t,
       a.ip::inet, a.country, a.asn
FROM generate_series(1, 40 * 160) n
JOIN seed_attackers a ON a.k = (n * 17) % 100;

INSERT INTO ports (time, raw_count, port, protocol, identity_id, ip, country, asn)
SELECT $1::timestamptz - n * interval '11 minutes',
       1 + n % 2,
       (ARRAY[22, 23, 23, 80, 443, 445, 3389, 8080])[1 + (n * 5) % 8],
       (CASE WHEN n % 9 = 0 THEN 'UDP' ELSE 'TCP' END)::protocol_t,
       1 + (n * 11) % 6,
       a.ip::inet, a.country, a.asn
FROM generate_series(1, 40 * 130) n
JOIN seed_attackers a ON a.k = (n * 13) % 100;
`

// Seed fills a freshly migrated database with 40 days of traffic ending at now, rolls it up
// with the aggregator, builds a week of greylist snapshots, records leaked passwords, and
// returns sample values for the dashboards' variables.
func Seed(ctx context.Context, pool *pgxpool.Pool, now time.Time) (Samples, error) {
	for _, stmt := range strings.Split(seedSQL, ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		var args []any
		if strings.Contains(stmt, "$1") {
			args = append(args, now.UTC())
		}
		if _, err := pool.Exec(ctx, stmt, args...); err != nil {
			return Samples{}, fmt.Errorf("seed raw rows: %w\n%s", err, stmt)
		}
	}
	// Large batches: the seed is small, and fewer transactions keep the test fast.
	agg, err := aggregator.New(pool, aggregator.Config{
		Now:   func() time.Time { return now },
		Batch: map[string]time.Duration{"quarterly": 10 * 24 * time.Hour, "hourly": 40 * 24 * time.Hour, "daily": 400 * 24 * time.Hour},
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
	for i, pw := range []string{"123456", "admin", "password", "qwerty"} {
		h := sha1.Sum([]byte(pw))
		if _, err := pool.Exec(ctx, `INSERT INTO passwords_pwned (hash, count, sources) VALUES ($1, $2, '{telnet,ftp}')`,
			h[:], 1000/(i+1)); err != nil {
			return Samples{}, fmt.Errorf("leaked passwords: %w", err)
		}
	}
	return samples(ctx, pool)
}

func samples(ctx context.Context, pool *pgxpool.Pool) (Samples, error) {
	var s Samples
	var asn int64
	queries := []struct {
		what string
		sql  string
		dst  any
	}{
		{"probes", `SELECT array_agg(id::text ORDER BY id) FROM (SELECT id FROM identity ORDER BY id LIMIT 2) p`, &s.Probes},
		{"asn", `SELECT asn FROM incidents GROUP BY asn ORDER BY sum(raw_count) DESC LIMIT 1`, &asn},
		{"countries", `SELECT array_agg(country ORDER BY n DESC) FROM (SELECT country, sum(raw_count) n FROM incidents GROUP BY country ORDER BY n DESC LIMIT 2) c`, &s.Countries},
		{"ip", `SELECT host(ip) FROM incidents GROUP BY ip ORDER BY sum(raw_count) DESC LIMIT 1`, &s.IP},
		{"password", `SELECT password FROM passwords GROUP BY password ORDER BY sum(raw_count) DESC LIMIT 1`, &s.Password},
		{"tags", `SELECT array_agg(DISTINCT t ORDER BY t) FROM greylist, unnest(tags) t`, &s.Tags},
	}
	for _, q := range queries {
		if err := pool.QueryRow(ctx, q.sql).Scan(q.dst); err != nil {
			return Samples{}, fmt.Errorf("sample %s: %w", q.what, err)
		}
	}
	s.ASN = strconv.FormatInt(asn, 10)
	h := sha1.Sum([]byte(s.Password))
	s.Prefix = fmt.Sprintf("%x", h[:3])[:5]
	if len(s.Tags) == 0 {
		return Samples{}, fmt.Errorf("sample tags: the greylist is empty")
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
