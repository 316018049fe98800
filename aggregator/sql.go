package aggregator

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
)

// origin aligns every bucket to UTC midnight, whatever the session time zone.
const origin = "'2000-01-01 00:00:00+00'::timestamptz"

// dimensions are the key columns of a family's rollup that the raw rows carry; the located
// ones (country and asn) are filled from geo_prefixes when a raw row has none.
func dimensions(f derived.Family) []string {
	return slices.DeleteFunc(slices.Clone(derived.RollupOf(f).Keys), func(c string) bool { return slices.Contains(derived.Located, c) })
}

// totalsColumns are the columns of a totals table, raw_count last.
func totalsColumns(totals derived.Table) string {
	return "time, " + strings.Join(totals.Keys, ", ") + ", raw_count"
}

// totalsInsert inserts into a totals table at a precision the rows of from (a table or a CTE
// with the wide rollup's columns) summed over the totals' keys.
func totalsInsert(totals derived.Table, p period.Precision, from string) string {
	keys := strings.Join(totals.Keys, ", ")
	return fmt.Sprintf(`INSERT INTO %s (%s)
	SELECT time, %s, sum(raw_count) FROM %s GROUP BY time, %s`,
		totals.Name(p), totalsColumns(totals), keys, from, keys)
}

// rewriteSQL returns the statements that rewrite the buckets of [$1, $2) of one (table,
// precision): the deletes, and an insert that answers (raw rows read, buckets written); the raw
// row count is 0 above quarterly. Where the rollup has a narrow twin, the insert fills it too,
// from the rows it wrote, instead of reading them back. The daily insert takes a third parameter, the hourly
// watermark clamped to [$1, $2]: where it stops reading hourly rows and reads quarterly ones.
// Rolling up from raw also fills a missing country or asn from geo_prefixes; the lookup is
// done once per group, not per raw row, and the groups are merged again afterwards.
func rewriteSQL(f derived.Family, precision period.Precision) (dels []string, ins string) {
	rollup := derived.RollupOf(f)
	dst := rollup.Name(precision)
	src := rollup.Name(derived.RolledFrom(precision))
	dims := dimensions(f)
	cols := strings.Join(dims, ", ")
	width := fmt.Sprintf("'%d seconds'::interval", int(precision.Step().Seconds()))
	groupBy := make([]string, len(dims)+3)
	for i := range groupBy {
		groupBy[i] = fmt.Sprint(i + 1)
	}
	// Rows go in key order: the unique key's index fills page by page, and a probe's rows of one
	// bucket sit together on disk, which a probe-filtered read over months pays for.
	group := strings.Join(groupBy, ", ")
	dels = []string{fmt.Sprintf("DELETE FROM %s WHERE time >= $1 AND time < $2", dst)}
	returning, totals := "1", ""
	if t, ok := derived.Find(derived.Totals, f); ok {
		dels = append(dels, fmt.Sprintf("DELETE FROM %s WHERE time >= $1 AND time < $2", t.Name(precision)))
		returning, totals = totalsColumns(t), ", totals AS (\n\t"+totalsInsert(t, precision, "ins")+")"
	}
	if precision != period.Quarterly {
		// Coarser precisions only regroup; no source count, so the source is read once.
		from := fmt.Sprintf("%s WHERE time >= $1 AND time < $2", src)
		if fresh := derived.ClosingSource(precision); fresh != derived.RolledFrom(precision) {
			// Daily reads hourly rows below $3 (the hourly watermark, where hourly is final)
			// and quarterly rows from $3 on: both hold the same sums, so the result does not
			// depend on where the hourly step is.
			from = fmt.Sprintf(`(SELECT time, %[1]s, country, asn, raw_count FROM %[2]s WHERE time >= $1 AND time < $3
		UNION ALL SELECT time, %[1]s, country, asn, raw_count FROM %[3]s WHERE time >= $3 AND time < $2) s`,
				cols, src, rollup.Name(fresh))
		}
		ins = fmt.Sprintf(`WITH ins AS (
	INSERT INTO %s (time, %s, country, asn, raw_count)
	SELECT date_bin(%s, time, %s), %s, country, asn, sum(raw_count)
	FROM %s
	GROUP BY %s ORDER BY %s
	RETURNING %s)%s
SELECT 0::bigint, count(*) FROM ins`, dst, cols, width, origin, cols, from, group, group, returning, totals)
		return dels, ins
	}
	// The original schema lets a raw raw_count be NULL: it counts as 1.
	srcCTE := fmt.Sprintf(`src AS (
	SELECT date_bin(%s, time, %s) AS time, %s, country, asn, sum(coalesce(raw_count, 1)) AS raw_count, count(*) AS n
	FROM %s WHERE time >= $1 AND time < $2
	GROUP BY %s)`, width, origin, cols, src, group)
	ins = fmt.Sprintf(`WITH %s, ins AS (
	INSERT INTO %s (time, %s, country, asn, raw_count)
	SELECT s.time, s.%s, coalesce(s.country, g.country), coalesce(s.asn, g.asn), sum(s.raw_count)
	FROM src s LEFT JOIN LATERAL (
		SELECT l.country, l.asn FROM geo_lookup(s.ip) l WHERE s.country IS NULL OR s.asn IS NULL
	) g ON true
	GROUP BY %s ORDER BY %s
	RETURNING %s)%s
SELECT coalesce((SELECT sum(n) FROM src), 0)::bigint, (SELECT count(*) FROM ins)`,
		srcCTE, dst, cols, strings.Join(dims, ", s."), group, group, returning, totals)
	return dels, ins
}
