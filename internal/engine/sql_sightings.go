package engine

import (
	"fmt"
	"strings"

	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/twin"
)

// sightingsFrom is the FROM item of a sightings read: the stored rows of the built buckets and
// the unbuilt ones computed live.
func (s *statement) sightingsFrom(src sightingsSource) string {
	arms := []string{}
	if len(src.built) > 0 {
		arms = append(arms, fmt.Sprintf("SELECT time, by_country, country, gap, attackers FROM %s WHERE %s",
			twin.Sightings.Table(src.precision), s.spans(src.built)))
	}
	for _, sp := range src.unbuilt {
		arms = append(arms, "("+twin.Sightings.SelectSQL(src.precision, s.param(sp.from)+"::timestamptz", s.param(sp.to)+"::timestamptz")+")")
	}
	return "(" + strings.Join(arms, " UNION ALL ") + ") AS sightings"
}

// sightingsWhere is the WHERE clause of a sightings read over [from, until): an address counts
// in the bucket where it is first seen after start, the expression giving the start of the
// span it is counted over (the window, or each point's bucket).
func (s *statement) sightingsWhere(q query.Query, w period.Window, start string) string {
	byCountry := q.GroupBy == "country"
	c := []string{"time >= " + s.param(w.From), "time < " + s.param(w.Until),
		"by_country = " + s.param(byCountry),
		fmt.Sprintf("gap * %d > extract(epoch FROM time - %s)", int(w.Source.Step().Seconds()), start)}
	if byCountry {
		c = append(c, "country IS NOT NULL")
	}
	if len(q.Filters.Country) > 0 {
		c = append(c, "country = ANY("+s.param(q.Filters.Country)+"::text[])")
	}
	return strings.Join(c, " AND ")
}

// sightingsSeriesSQL is seriesSQL over the sightings: the same columns, ranks and order.
func sightingsSeriesSQL(q query.Query, w period.Window, src sightingsSource) statement {
	var s statement
	table := s.sightingsFrom(src)
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
func sightingsTableSQL(q query.Query, w period.Window, src sightingsSource, rowCap int) statement {
	var s statement
	table := s.sightingsFrom(src)
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
