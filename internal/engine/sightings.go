package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sview-project/sview/internal/derived"
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
	p := w.Source
	if q.Metric != "attackers" || !twin.Sightings.At(p) {
		return false
	}
	cols, ok := filterColumns(q)
	if !ok || len(cols) > 1 || len(cols) == 1 && cols[0] != "country" {
		return false
	}
	switch q.GroupBy {
	case "":
		if len(cols) > 0 {
			return false
		}
	case "country":
	default:
		return false
	}
	return w.Until.Sub(w.From) <= twin.Sightings.Span(p)
}

// maxLiveSightings is how many buckets of a window the engine computes itself when the twin
// job has not built them yet (the newest hour or day, between its rollup step and the twin
// job): each costs a lookup per address, about 0.6 s for a day at a million incidents.
const maxLiveSightings = 2

// sightingsSource is what a sightings read reads: the table for the built buckets, the rest
// computed from the wide rollup.
type sightingsSource struct {
	precision      period.Precision
	built, unbuilt []span
}

func (src sightingsSource) name() string {
	n := twin.Sightings.Table(src.precision)
	if len(src.unbuilt) > 0 {
		n += " + " + derived.RollupOf(twin.Sightings.Family()).Name(src.precision)
	}
	return n
}

// readsSightings plans a sightings read of q over w; false when the sightings cannot answer
// or too many of the window's buckets are not built.
func (e *Engine) readsSightings(ctx context.Context, q query.Query, w period.Window) (sightingsSource, bool, error) {
	if !sightingsApply(q, w) {
		return sightingsSource{}, false, nil
	}
	built, unbuilt, err := e.twinSpans(ctx, twin.Sightings.Family(), w)
	if err != nil {
		return sightingsSource{}, false, err
	}
	step, missing := w.Source.Step(), time.Duration(0)
	for _, sp := range unbuilt {
		missing += sp.to.Sub(sp.from)
	}
	return sightingsSource{w.Source, built, unbuilt}, missing <= maxLiveSightings*step, nil
}

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
