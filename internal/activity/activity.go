// Package activity tells when each probe last reported and when it fell silent, from the
// rollups and the raw rows they have not reached yet, over every table a probe reports to.
package activity

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
)

// Querier is what activity reads through: a *pgxpool.Pool or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Probe is one probe and its last report.
type Probe struct {
	ID     int64
	Serial string
	// LastSeen is the time of its last raw row, or the end of the last quarter-hour (or day,
	// past the quarterly rollups' retention) with rows; zero when no table holds any.
	LastSeen time.Time
}

// watermark is the SQL of the watermark of family f at precision p, -infinity when none.
func watermark(f derived.Family, p period.Precision) string {
	return fmt.Sprintf(`coalesce((SELECT watermark FROM rollup_watermarks WHERE source = '%s' AND precision = '%s'), '-infinity')`, f, p)
}

// lastSeenSQL reads per probe (i.id) the latest raw row above the quarterly watermark, else the
// latest quarterly bucket's end, else the latest daily bucket's end, across every family.
func lastSeenSQL() string {
	var terms []string
	for _, f := range derived.ProbeFamilies() {
		raw, rollup := derived.RawOf(f).Name(period.Raw), derived.RollupOf(f)
		terms = append(terms,
			fmt.Sprintf(`(SELECT max(time) FROM %s r WHERE r.identity_id = i.id AND r.time >= %s)`, raw, watermark(f, period.Quarterly)),
			fmt.Sprintf(`coalesce((SELECT max(time) + interval '15 minutes' FROM %s q WHERE q.identity_id = i.id),
				(SELECT max(time) + interval '1 day' FROM %s d WHERE d.identity_id = i.id))`, rollup.Name(period.Quarterly), rollup.Name(period.Daily)))
	}
	return `SELECT i.id, i.sn, greatest(` + strings.Join(terms, ",\n") + `)
		FROM identity i WHERE $1::bigint[] IS NULL OR i.id = ANY ($1)
		ORDER BY i.sn, i.id`
}

// LastSeen lists the probes (all of them when probes is nil) with their last report.
func LastSeen(ctx context.Context, q Querier, probes []int64) ([]Probe, error) {
	rows, err := q.Query(ctx, lastSeenSQL(), probes)
	if err != nil {
		return nil, fmt.Errorf("read the probes' last reports: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Probe, error) {
		var p Probe
		var last *time.Time
		err := row.Scan(&p.ID, &p.Serial, &last)
		if last != nil {
			p.LastSeen = last.UTC()
		}
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the probes' last reports: %w", err)
	}
	return list, nil
}

// Silence is a span in which a probe sent nothing.
type Silence struct {
	ProbeID int64
	Serial  string
	From    time.Time
	To      time.Time
	// SinceBefore: the probe was already silent when the look-back began (From is its start);
	// Ongoing: it still is (To is the end of the range).
	SinceBefore, Ongoing bool
}

// Lookback is how far before a range Silences looks for a silence's start, so one that began
// a little before the range still counts in full.
const Lookback = 7 * 24 * time.Hour

// activeHoursSQL lists (id, hour) of every hour a probe reported in [$2, $3): the hourly
// rollups below their watermark, the raw rows above it.
func activeHoursSQL() string {
	var parts []string
	for _, f := range derived.ProbeFamilies() {
		raw, hourly, wm := derived.RawOf(f).Name(period.Raw), derived.RollupOf(f).Name(period.Hourly), watermark(f, period.Hourly)
		parts = append(parts,
			fmt.Sprintf(`SELECT identity_id AS id, time AS hour FROM %s
				WHERE time >= $2 AND time < least($3, %s) AND ($1::bigint[] IS NULL OR identity_id = ANY ($1))`, hourly, wm),
			fmt.Sprintf(`SELECT identity_id, date_trunc('hour', time) FROM %s
				WHERE time >= greatest($2, %s) AND time < $3 AND ($1::bigint[] IS NULL OR identity_id = ANY ($1))`, raw, wm))
	}
	return strings.Join(parts, "\nUNION\n")
}

// Silences lists the spans of at least minimum in which the probes (all when nil) sent nothing,
// that overlap [from, to), to the hour, at most limit of them, oldest first. The look-back
// starts Lookback before from; a silence still going on ends at to.
func Silences(ctx context.Context, q Querier, probes []int64, from, to time.Time, minimum time.Duration, limit int) ([]Silence, error) {
	start := period.Floor(from.Add(-Lookback), time.Hour)
	rows, err := q.Query(ctx, `
		WITH active AS (`+activeHoursSQL()+`),
		probes AS (SELECT id, sn FROM identity WHERE $1::bigint[] IS NULL OR id = ANY ($1)),
		-- Each active hour, and two edges per probe: the look-back's start and the range's end.
		marks AS (
			SELECT id, hour AS starts, hour + interval '1 hour' AS ends FROM active
			UNION ALL SELECT id, $2 - interval '1 hour', $2 FROM probes
			UNION ALL SELECT id, $3, $3 + interval '1 hour' FROM probes
		), gaps AS (
			SELECT id, lag(ends) OVER (PARTITION BY id ORDER BY starts) AS silent_from, starts AS silent_to
			FROM marks
		)
		SELECT g.id, p.sn, g.silent_from, g.silent_to
		FROM gaps g JOIN probes p USING (id)
		WHERE g.silent_to - g.silent_from >= $4 AND g.silent_to > $5
		ORDER BY g.silent_from, p.sn
		LIMIT $6`, probes, start, to, minimum, from, limit)
	if err != nil {
		return nil, fmt.Errorf("read the probes' silences: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Silence, error) {
		var s Silence
		err := row.Scan(&s.ProbeID, &s.Serial, &s.From, &s.To)
		s.From, s.To = s.From.UTC(), s.To.UTC()
		s.SinceBefore, s.Ongoing = s.From.Equal(start), s.To.Equal(to.UTC())
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the probes' silences: %w", err)
	}
	return list, nil
}
