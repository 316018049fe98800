package engine

import (
	"strconv"
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
		arms = append(arms, "SELECT time, by_country, country, gap, attackers FROM "+twin.Sightings.Table(src.precision)+" WHERE "+s.spans(src.built))
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
	byCountry := q.GroupBy.Is("country")
	c := []string{"time >= " + s.param(w.From), "time < " + s.param(w.Until),
		"by_country = " + s.param(byCountry),
		"gap * " + strconv.Itoa(int(w.Source.Step().Seconds())) + " > extract(epoch FROM time - " + start + ")"}
	if byCountry {
		c = append(c, "country IS NOT NULL")
	}
	if len(q.Filters.Country) > 0 {
		c = append(c, "country = ANY("+s.param(q.Filters.Country)+"::text[])")
	}
	// sightingsApply admits an exclusion of countries only, and only when grouped by country:
	// leaving a country's rows out leaves the others' counts as they are.
	c = append(c, s.exclusions(q.Exclude)...)
	return strings.Join(c, " AND ")
}

// sightingsSeriesSQL is seriesSQL over the sightings: the same columns, ranks and order.
func sightingsSeriesSQL(q query.Query, w period.Window, src sightingsSource) statement {
	var s statement
	table := s.sightingsFrom(src)
	from := s.param(w.From) + "::timestamptz"
	bucket := "date_bin(" + s.param(w.Bucket) + "::interval, time, " + from + ")"
	if len(q.GroupBy) == 0 {
		where := s.sightingsWhere(q, w, bucket)
		s.sql = fill("SELECT {bucket} AS bucket, sum(attackers)::bigint AS value FROM {table} WHERE {where} GROUP BY 1 ORDER BY 1",
			map[string]string{"bucket": bucket, "table": table, "where": where})
		return s
	}
	// The window ranks the countries; each point counts an address first seen in its bucket.
	topWhere := s.sightingsWhere(q, w, from)
	limit := s.param(q.Limit)
	pointsWhere := s.sightingsWhere(q, w, bucket)
	s.sql = fill(`WITH top AS (
	SELECT country AS k0, country AS l0, row_number() OVER (ORDER BY sum(attackers) DESC, country) AS rank
	FROM {table} WHERE {topWhere}
	GROUP BY country
	ORDER BY rank
	LIMIT {limit}
), points AS (
	SELECT {bucket} AS bucket, country AS k0, sum(attackers)::bigint AS value
	FROM {table} WHERE {pointsWhere} AND country IN (SELECT k0 FROM top)
	GROUP BY 1, 2
)
SELECT top.rank, top.l0, points.bucket, points.value
FROM top LEFT JOIN points USING (k0)
ORDER BY top.rank, points.bucket`, map[string]string{
		"table": table, "topWhere": topWhere, "limit": limit, "bucket": bucket, "pointsWhere": pointsWhere,
	})
	return s
}

// sightingsTableSQL is tableSQL over the sightings.
func sightingsTableSQL(q query.Query, w period.Window, src sightingsSource, rowCap int) statement {
	var s statement
	table := s.sightingsFrom(src)
	where := s.sightingsWhere(q, w, s.param(w.From)+"::timestamptz")
	if len(q.GroupBy) == 0 {
		s.sql = "SELECT coalesce(sum(attackers), 0)::bigint AS value FROM " + table + " WHERE " + where
		return s
	}
	limit := s.param(rowLimit(q, rowCap))
	s.sql = fill("SELECT country, sum(attackers)::bigint AS value FROM {table} WHERE {where} GROUP BY country ORDER BY value DESC, country LIMIT {limit}",
		map[string]string{"table": table, "where": where, "limit": limit})
	return s
}
