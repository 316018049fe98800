package greylist

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Change is an address entering or leaving the greylist, as two consecutive daily snapshots
// show it: an entry on the first snapshot that holds it, an exit on the first that lacks it.
type Change struct {
	Day     time.Time // UTC midnight of that snapshot
	IP      string
	Entered bool
	// Score, Tags and ASN are those of the snapshot that holds the address (the entry's, or
	// the last before the exit).
	Score float64
	Tags  []string
	ASN   int64
}

// Changes lists the entries and exits of addresses matching f on the snapshots of [from, to],
// oldest first, at most f.Limit (0: all). The snapshot before from is the reference for the
// first day in the range; with none, nothing on that first day counts as an entry.
func Changes(ctx context.Context, q Querier, f Filter, from, to time.Time) ([]Change, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	var limit *int
	if f.Limit > 0 {
		limit = &f.Limit
	}
	args := append(filterArgs(f), from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly), limit)
	rows, err := q.Query(ctx, `
		WITH days AS (
			SELECT day, row_number() OVER (ORDER BY day) AS n
			FROM (SELECT DISTINCT day FROM greylist_history
			      WHERE day >= coalesce((SELECT max(day) FROM greylist_history WHERE day < $9::date), $9::date)
			        AND day <= $10::date) d
		), present AS (
			SELECT h.ip, d.day, d.n, h.score, h.tags, coalesce(h.asn, 0) AS asn,
			       lag(d.n) OVER w AS prev_n, lead(d.n) OVER w AS next_n
			FROM greylist_history h JOIN days d USING (day)
			WHERE `+filterClause+`
			WINDOW w AS (PARTITION BY h.ip ORDER BY d.n)
		)
		SELECT day::timestamp AT TIME ZONE 'UTC', host(ip), true, score, tags, asn FROM present
		WHERE n > 1 AND (prev_n IS NULL OR prev_n < n - 1)
		UNION ALL
		SELECT nd.day::timestamp AT TIME ZONE 'UTC', host(p.ip), false, p.score, p.tags, p.asn
		FROM present p JOIN days nd ON nd.n = p.n + 1
		WHERE p.next_n IS NULL OR p.next_n > p.n + 1
		ORDER BY 1, 2, 3
		LIMIT $11`, args...)
	if err != nil {
		return nil, fmt.Errorf("read greylist changes: %w", err)
	}
	changes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Change, error) {
		var c Change
		err := row.Scan(&c.Day, &c.IP, &c.Entered, &c.Score, &c.Tags, &c.ASN)
		c.Day = c.Day.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read greylist changes: %w", err)
	}
	return changes, nil
}
