package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/twin"
)

// Distinct attackers over long windows are read from the sightings twin (see twin.Sightings):
// a sum over a few hundred rows per bucket instead of a count(DISTINCT ip) over every row of
// the wide rollup. That holds for attackers in all or grouped by country, filtered by nothing
// but country, over a window within the lookback whose every bucket the twin job has built.

// sightingsApply reports whether q over w can be answered from the sightings. A country
// filter without grouping needs addresses deduplicated across the chosen countries, which the
// per-country rows cannot give.
func sightingsApply(q query.Query, w period.Window) bool {
	p := string(w.Source)
	if q.Metric != "attackers" || !twin.Has(twin.Sightings.Source(), p) {
		return false
	}
	f := q.Filters
	if len(f.Probe) > 0 || len(f.ASN) > 0 || len(f.Trap) > 0 || len(f.Action) > 0 || f.IP != "" ||
		f.Password != "" || f.Username != "" || len(f.Port) > 0 {
		return false
	}
	switch q.GroupBy {
	case "":
		if len(f.Country) > 0 {
			return false
		}
	case "country":
	default:
		return false
	}
	return w.Until.Sub(w.From) <= twin.Sightings.Span(p)
}

// readsSightings reports whether q over w is answered from the sightings.
func (e *Engine) readsSightings(ctx context.Context, q query.Query, w period.Window) (bool, error) {
	if !sightingsApply(q, w) {
		return false, nil
	}
	return e.sightingsBuilt(ctx, w)
}

// sightingsBuilt reports whether the twin job has built every bucket of the window.
func (e *Engine) sightingsBuilt(ctx context.Context, w period.Window) (bool, error) {
	p := string(w.Source)
	step := twin.Step(p)
	first := w.From.Truncate(step)
	want := int64((w.Until.Sub(first) + step - 1) / step)
	var built int64
	err := e.db.QueryRow(ctx, `SELECT count(*) FROM twin_buckets WHERE source = $1 AND precision = $2 AND time >= $3 AND time < $4`,
		twin.Sightings.Source(), p, first, w.Until).Scan(&built)
	if err != nil {
		return false, fmt.Errorf("read built buckets of %s: %w", twin.Sightings.Table(p), err)
	}
	return built == want, nil
}

// sightingsWhere is the WHERE clause of a sightings read over [from, until): an address counts
// in the bucket where it is first seen after start, the expression giving the start of the
// span it is counted over (the window, or each point's bucket).
func (s *statement) sightingsWhere(q query.Query, w period.Window, start string) string {
	byCountry := q.GroupBy == "country"
	c := []string{"time >= " + s.param(w.From), "time < " + s.param(w.Until),
		"by_country = " + s.param(byCountry),
		fmt.Sprintf("gap * %d > extract(epoch FROM time - %s)", int(twin.Step(string(w.Source)).Seconds()), start)}
	if byCountry {
		c = append(c, "country IS NOT NULL")
	}
	if len(q.Filters.Country) > 0 {
		c = append(c, "country = ANY("+s.param(q.Filters.Country)+"::text[])")
	}
	return strings.Join(c, " AND ")
}

// sightingsSeriesSQL is seriesSQL over the sightings: the same columns, ranks and order.
func sightingsSeriesSQL(q query.Query, w period.Window) statement {
	var s statement
	table := twin.Sightings.Table(string(w.Source))
	from := s.param(w.From) + "::timestamptz"
	bucket := "date_bin(" + s.param(w.Bucket) + "::interval, time, " + from + ")"
	if q.GroupBy == "" {
		s.sql = fmt.Sprintf("SELECT %s AS bucket, sum(attackers)::bigint AS value FROM %s WHERE %s GROUP BY 1 ORDER BY 1",
			bucket, table, s.sightingsWhere(q, w, bucket))
		return s
	}
	s.sql = fmt.Sprintf(`WITH top AS (
	SELECT country AS k0, country AS l0, row_number() OVER (ORDER BY sum(attackers) DESC, country) AS rank
	FROM %[1]s WHERE %[2]s
	GROUP BY country
	ORDER BY rank
	LIMIT %[3]s
), points AS (
	SELECT %[4]s AS bucket, country AS k0, sum(attackers)::bigint AS value
	FROM %[1]s WHERE %[5]s AND country IN (SELECT k0 FROM top)
	GROUP BY 1, 2
)
SELECT top.rank, top.l0, points.bucket, points.value
FROM top LEFT JOIN points USING (k0)
ORDER BY top.rank, points.bucket`,
		table, s.sightingsWhere(q, w, from), s.param(q.Limit), bucket, s.sightingsWhere(q, w, bucket))
	return s
}

// sightingsTableSQL is tableSQL over the sightings.
func sightingsTableSQL(q query.Query, w period.Window, rowCap int) statement {
	var s statement
	table := twin.Sightings.Table(string(w.Source))
	where := s.sightingsWhere(q, w, s.param(w.From)+"::timestamptz")
	if q.GroupBy == "" {
		s.sql = fmt.Sprintf("SELECT coalesce(sum(attackers), 0)::bigint AS value FROM %s WHERE %s", table, where)
		return s
	}
	limit := rowCap
	if q.Limit > 0 {
		limit = min(q.Limit, rowCap)
	}
	s.sql = fmt.Sprintf("SELECT country, sum(attackers)::bigint AS value FROM %s WHERE %s GROUP BY country ORDER BY value DESC, country LIMIT %s",
		table, where, s.param(limit))
	return s
}
