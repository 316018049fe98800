package greylist

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/sentinel"
)

// Defaults of the builder: an address is greylisted when at least DefaultMinProbes distinct
// probes saw it within the last DefaultDays days.
const (
	DefaultMinProbes = 3
	DefaultDays      = 7
	// MaxDays bounds the window: the builder reads raw rows, and a longer window costs more.
	MaxDays = 90
)

// Options of Build; zero fields take the defaults.
type Options struct {
	MinProbes int       // K: distinct probes an address must have hit; zero: DefaultMinProbes
	Days      int       // D: window length in days, ending at Now; zero: DefaultDays
	Now       time.Time // end of the window; zero: time.Now(). Its UTC date names the snapshot.
	Logger    *slog.Logger
}

// Result says what one Build did.
type Result struct {
	Day      time.Time // the snapshot written to greylist_history (UTC midnight)
	From, To time.Time // the window, [From, To)
	Entries  int       // addresses on the new list
	Added    int       // of them, not on the list before
	Removed  int       // addresses dropped from the list
	Duration time.Duration
}

// buildQuery computes the new list from the raw rows of the window. Incidents count toward the
// score; passwords rows that carry an attacker add their probe, trap and times (login attempts
// of haas and faillogs may have no incident row). Country and ASN come from the newest raw row
// that has them, else from geo_prefixes.
//
// $1 from, $2 to, $3 min probes, $4 traps, $5 their tags.
const buildQuery = `
INSERT INTO greylist_new
WITH seen AS (
    SELECT ip, identity_id, trap::text AS trap, time, coalesce(raw_count, 1) AS n, country, asn
    FROM incidents WHERE time >= $1 AND time < $2
    UNION ALL
    SELECT ip, identity_id, trap::text, time, 0, country, asn
    FROM passwords WHERE time >= $1 AND time < $2 AND ip IS NOT NULL
), per_ip AS (
    SELECT ip,
           count(DISTINCT identity_id) AS probes,
           sum(n)::bigint AS incidents,
           array_agg(DISTINCT trap) FILTER (WHERE trap IS NOT NULL) AS traps,
           min(time) AS first_seen,
           max(time) AS last_seen,
           (array_agg(country ORDER BY time DESC) FILTER (WHERE country IS NOT NULL))[1] AS country,
           (array_agg(asn ORDER BY time DESC) FILTER (WHERE asn IS NOT NULL))[1] AS asn
    FROM seen
    GROUP BY ip
    HAVING count(DISTINCT identity_id) >= $3
)
SELECT p.ip,
       ARRAY(SELECT DISTINCT m.tag FROM unnest($4::text[], $5::text[]) AS m(trap, tag)
             WHERE m.trap = ANY (p.traps) ORDER BY m.tag) AS tags,
       round((p.probes * log(1 + p.incidents))::numeric, 3)::float8 AS score,
       p.probes::int AS probes,
       p.incidents,
       coalesce(p.country, g.country) AS country,
       coalesce(p.asn, g.asn) AS asn,
       p.first_seen,
       p.last_seen
FROM per_ip p
LEFT JOIN LATERAL geo_lookup(p.ip) g ON true`

// Build recomputes the greylist from the raw incidents and passwords of the last Days days and
// replaces the current list and today's snapshot in one transaction: readers see the old list
// or the new one, never a mix, and running it twice on a day leaves one snapshot.
//
// Score = probes × log10(1 + incidents), rounded to 3 decimals: breadth counts linearly, volume
// only logarithmically, so one noisy scanner hammering a single probe never outranks an address
// seen across the network.
//
// Entries added by `sview import greylist` are replaced like any other.
func Build(ctx context.Context, pool *pgxpool.Pool, opts Options) (Result, error) {
	start := time.Now()
	if opts.MinProbes == 0 {
		opts.MinProbes = DefaultMinProbes
	}
	if opts.Days == 0 {
		opts.Days = DefaultDays
	}
	if opts.Now.IsZero() {
		opts.Now = start
	}
	if opts.MinProbes < 1 {
		return Result{}, fmt.Errorf("%w: min probes %d: want 1 or more", ErrInvalid, opts.MinProbes)
	}
	if opts.Days < 1 || opts.Days > MaxDays {
		return Result{}, fmt.Errorf("%w: days %d: want 1 to %d", ErrInvalid, opts.Days, MaxDays)
	}
	now := opts.Now.UTC()
	res := Result{
		Day:  time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC),
		From: now.AddDate(0, 0, -opts.Days),
		To:   now,
	}
	traps, tags := trapTagArrays()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := rollupstate.XactLock(ctx, tx, rollupstate.ClassGreylist, 0, false); err != nil {
			return fmt.Errorf("take greylist lock: %w", err)
		}
		var before int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM greylist`).Scan(&before); err != nil {
			return fmt.Errorf("count current list: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE greylist_new (ip inet PRIMARY KEY, tags text[], score float8,
			probes int, incidents bigint, country varchar(2), asn int, first_seen timestamptz, last_seen timestamptz)
			ON COMMIT DROP`); err != nil {
			return fmt.Errorf("create temporary table: %w", err)
		}
		tag, err := tx.Exec(ctx, buildQuery, res.From, res.To, opts.MinProbes, traps, tags)
		if err != nil {
			return fmt.Errorf("compute list: %w", err)
		}
		res.Entries = int(tag.RowsAffected())
		if tag, err = tx.Exec(ctx, `DELETE FROM greylist g WHERE NOT EXISTS (SELECT 1 FROM greylist_new n WHERE n.ip = g.ip)`); err != nil {
			return fmt.Errorf("drop old entries: %w", err)
		}
		res.Removed = int(tag.RowsAffected())
		res.Added = res.Entries - (before - res.Removed)
		if _, err := tx.Exec(ctx, `
			INSERT INTO greylist AS g (ip, tags, score, probes, incidents, country, asn, first_seen, last_seen, updated_at)
			SELECT ip, tags, score, probes, incidents, country, asn, first_seen, last_seen, now() FROM greylist_new
			ORDER BY ip
			ON CONFLICT (ip) DO UPDATE SET tags = excluded.tags, score = excluded.score, probes = excluded.probes,
				incidents = excluded.incidents, country = excluded.country, asn = excluded.asn,
				first_seen = excluded.first_seen, last_seen = excluded.last_seen, updated_at = now()`); err != nil {
			return fmt.Errorf("write list: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM greylist_history WHERE day = $1`, res.Day); err != nil {
			return fmt.Errorf("replace snapshot: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO greylist_history (day, ip, tags, score, probes, country, asn, first_seen, last_seen)
			SELECT $1, ip, tags, score, probes, country, asn, first_seen, last_seen FROM greylist_new`, res.Day); err != nil {
			return fmt.Errorf("write snapshot: %w", err)
		}
		return nil
	})
	res.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("greylist build: %w", err)
	}
	if opts.Logger != nil {
		opts.Logger.Info("greylist built", "day", res.Day.Format(time.DateOnly), "entries", res.Entries,
			"added", res.Added, "removed", res.Removed, "duration", res.Duration)
	}
	return res, nil
}

// trapTagArrays lists every trap with a tag, and the tags, as parallel arrays for buildQuery.
func trapTagArrays() (traps, tags []string) {
	for _, t := range sentinel.Traps {
		if tag, ok := TagOfTrap(t); ok {
			traps = append(traps, t)
			tags = append(tags, tag)
		}
	}
	return traps, tags
}
