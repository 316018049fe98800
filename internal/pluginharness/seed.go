package pluginharness

import (
	"context"
	"crypto/sha1" // #nosec G505 -- seeds passwords_pwned, keyed by the HIBP protocol's SHA-1
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/aggregator"
)

// The seeded incidents lie in [SeedFrom, SeedTo): six hours of one busy and one steady
// attacker, so answers over that dashboard range never depend on the clock.
var (
	SeedFrom = time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	SeedTo   = SeedFrom.Add(6 * time.Hour)
)

// Seed fills a freshly migrated database with the data the plugin tests expect:
//   - probes 1 and 2; geo prefixes for AS64500 (CZ), AS64501 (DE), AS64502 (US, no name);
//   - per hour h (0…5) of SeedFrom: 192.0.2.1 (CZ, AS64500) h+1 telnet logins on probe 1 and
//     198.51.100.7 (DE, AS64501) 2 small port scans on probe 2: 33 incidents in all;
//   - login attempts admin/admin ×5 and root/123456 ×2 from 192.0.2.1;
//   - feed events: 198.51.100.7 an SSH scanner ×4 (Shadowserver Scan-SSH) and 203.0.113.9 an
//     infected system ×1 (feed warden.dionaea), and the command "uname -a" from 192.0.2.1;
//   - leaked hashes of "password" (100, telnet+http), "123456" (50, ftp), "hunter2" (3, http);
//   - a greylist of 192.0.2.1 (ftp, telnet; score 5) and 198.51.100.7 (port_scan; score 3)
//     with a 2026-01-10 snapshot of 192.0.2.1;
//   - the same rows rolled up at every precision by the aggregator itself;
//   - then the watermarks moved to just behind now (quarterly 10 minutes, hourly 1
//     hour, daily at midnight), so health and status see a current aggregator.
func Seed(ctx context.Context, db *pgxpool.Pool) error {
	stmts := []string{
		`INSERT INTO identity (id, sn, device_token) VALUES (1, '0000000000000001', repeat('ab', 32)), (2, '0000000000000002', repeat('cd', 32))`,
		`INSERT INTO geo_prefixes (network, asn, country, as_name) VALUES
			('192.0.2.0/24', 64500, 'CZ', 'EXAMPLE-NET'), ('198.51.100.0/24', 64501, 'DE', 'OTHER-NET'), ('203.0.113.0/24', 64502, 'US', NULL)`,
		`INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
			SELECT $1::timestamptz + h * interval '1 hour' + interval '10 minutes', 1, 1, 'minipot_telnet', 'login', '192.0.2.1', 'CZ', 64500
			FROM generate_series(0, 5) AS h, generate_series(0, 5) AS n WHERE n <= h`,
		`INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
			SELECT $1::timestamptz + h * interval '1 hour' + interval '20 minutes', 2, 2, 'fwlogs', 'small_port_scan', '198.51.100.7', 'DE', 64501
			FROM generate_series(0, 5) AS h`,
		`INSERT INTO passwords (time, raw_count, username, password, identity_id, trap, ip) VALUES
			($1::timestamptz + interval '30 minutes', 5, 'admin', 'admin', 1, 'minipot_telnet', '192.0.2.1'),
			($1::timestamptz + interval '90 minutes', 2, 'root', '123456', 1, 'minipot_telnet', '192.0.2.1')`,
		`INSERT INTO feed_events (time, raw_count, provider, feed, taxonomy, type, identifier, ip, country, asn) VALUES
			($1::timestamptz + interval '40 minutes', 4, 'Shadowserver', 'Scan-SSH', 'information-gathering', 'scanner', 'ssh', '198.51.100.7', 'DE', 64501),
			($1::timestamptz + interval '50 minutes', 1, NULL, 'warden.dionaea', 'malicious-code', 'infected-system', NULL, '203.0.113.9', 'US', 64502)`,
		`INSERT INTO commands (time, raw_count, command, identity_id, ip, country, asn) VALUES
			($1::timestamptz + interval '35 minutes', 1, 'uname -a', 1, '192.0.2.1', 'CZ', 64500)`,
		`INSERT INTO greylist (ip, tags, score, probes, incidents, country, asn, first_seen, last_seen) VALUES
			('192.0.2.1', '{ftp,telnet}', 5, 5, 100, 'CZ', 64500, $1, $1::timestamptz + interval '6 hours'),
			('198.51.100.7', '{port_scan}', 3, 3, 10, 'DE', 64501, $1, $1::timestamptz + interval '6 hours')`,
		`INSERT INTO greylist_history (day, ip, tags, score, probes, country, asn) VALUES ($1::date, '192.0.2.1', '{telnet}', 4, 4, 'CZ', 64500)`,
	}
	for pw, rec := range map[string]struct {
		count   int
		sources string
	}{"password": {100, "{telnet,http}"}, "123456": {50, "{ftp}"}, "hunter2": {3, "{http}"}} {
		h := sha1.Sum([]byte(pw)) // #nosec G401 -- the HIBP SHA-1 the store is keyed by, not a protection
		if _, err := db.Exec(ctx, `INSERT INTO passwords_pwned (hash, count, sources) VALUES ($1, $2, $3)`, h[:], rec.count, rec.sources); err != nil {
			return fmt.Errorf("seed leaked password: %w", err)
		}
	}
	for i, s := range stmts {
		var args []any
		if strings.Contains(s, "$1") {
			args = append(args, SeedFrom)
		}
		if _, err := db.Exec(ctx, s, args...); err != nil {
			return fmt.Errorf("seed statement %d: %w", i+1, err)
		}
	}
	agg, err := aggregator.New(db, aggregator.Config{Now: func() time.Time { return SeedTo.Add(48 * time.Hour) }})
	if err != nil {
		return fmt.Errorf("seed rollups: %w", err)
	}
	if err := agg.CatchUp(ctx, "quarterly"); err != nil {
		return fmt.Errorf("seed rollups: %w", err)
	}
	_, err = db.Exec(ctx, `UPDATE rollup_watermarks SET watermark = CASE precision
			WHEN 'quarterly' THEN now() - interval '10 minutes'
			WHEN 'hourly' THEN now() - interval '1 hour'
			ELSE date_trunc('day', now()) END`)
	if err != nil {
		return fmt.Errorf("seed watermarks: %w", err)
	}
	return nil
}
