package twin

import (
	"fmt"
	"time"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
)

// Sightings is the attackers twin of the incidents rollups (migration 000042): per bucket, how
// many addresses were seen, by how many buckets had passed since each was seen before. An
// address counts once in a window [a, b) exactly in the bucket t where it is first seen there,
// the one whose previous sighting lies before a: gap × Step > t − a. Distinct attackers over a
// window of up to Lookback buckets are then a sum over a few hundred rows per bucket.
var Sightings = sightings{}

type sightings struct{}

func (sightings) table() derived.Table {
	t, _ := derived.Find(derived.Sightings, derived.Incidents)
	return t
}

// Family is the table family the sightings are built from.
func (s sightings) Family() derived.Family { return s.table().Family }

// Table names the sightings of a precision, e.g. incidents_daily_sightings.
func (s sightings) Table(p period.Precision) string { return s.table().Name(p) }

// At reports whether there are sightings at a precision.
func (s sightings) At(p period.Precision) bool { return s.table().At(p) }

// Lookback is how many buckets back a previous sighting is searched: the longest window read
// at the precision (Span).
func (sightings) Lookback(p period.Precision) int { return int(derived.TwinSpan(p) / p.Step()) }

// NoGap is the gap of an address not seen within the lookback: larger than any window answered.
func (s sightings) NoGap(p period.Precision) int { return s.Lookback(p) + 1 }

// Span is the window the sightings of a precision can answer.
func (sightings) Span(p period.Precision) time.Duration { return derived.TwinSpan(p) }

// BuildSQL returns the statements that rebuild the sightings of the buckets of [$1, $2) from
// the wide rollup.
func (s sightings) BuildSQL(precision period.Precision) (del, ins string) {
	dst := s.Table(precision)
	del = fmt.Sprintf("DELETE FROM %s WHERE time >= $1 AND time < $2", dst)
	ins = fmt.Sprintf("INSERT INTO %s (time, by_country, country, gap, attackers)\n%s", dst, s.SelectSQL(precision, "$1", "$2"))
	return del, ins
}

// SelectSQL computes the sightings of the buckets of [from, to) (SQL expressions) from the wide
// rollup, as rows (time, by_country, country, gap, attackers): BuildSQL stores them, the engine
// computes the few buckets the twin job has not built yet. Each address of a bucket looks up
// its previous bucket through the rollup's (ip, time) index, once per country it was seen from
// and once in any country.
func (s sightings) SelectSQL(precision period.Precision, from, to string) string {
	src := derived.RollupOf(s.Family()).Name(precision)
	lookback := fmt.Sprintf("'%d seconds'::interval", int(s.Span(precision).Seconds()))
	return fmt.Sprintf(`WITH seen AS (
	SELECT DISTINCT time, ip, country FROM %[1]s WHERE time >= %[2]s AND time < %[3]s
), previous AS (
	SELECT s.time, true AS by_country, s.country,
		(SELECT max(w.time) FROM %[1]s w WHERE w.ip = s.ip AND w.country IS NOT DISTINCT FROM s.country
			AND w.time < s.time AND w.time >= s.time - %[4]s) AS before
	FROM seen s
	UNION ALL
	SELECT a.time, false, NULL,
		(SELECT max(w.time) FROM %[1]s w WHERE w.ip = a.ip AND w.time < a.time AND w.time >= a.time - %[4]s)
	FROM (SELECT DISTINCT time, ip FROM seen) a
)
SELECT time, by_country, country,
	coalesce((extract(epoch FROM time - before) / %[5]d)::int, %[6]d) AS gap, count(*) AS attackers
FROM previous
GROUP BY 1, 2, 3, 4`, src, from, to, lookback, int(precision.Step().Seconds()), s.NoGap(precision))
}

// Stale is the span of buckets whose twins no longer hold when the wide buckets [from, to) of
// a source at a precision are rewritten: those buckets, and for incidents the sightings of the
// lookback after them, whose previous sightings may have moved.
func Stale(f derived.Family, p period.Precision, from, to time.Time) (time.Time, time.Time) {
	if f == Sightings.Family() && Sightings.At(p) {
		return from, to.Add(Sightings.Span(p))
	}
	return from, to
}
