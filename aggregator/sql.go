package aggregator

import (
	"fmt"
	"strings"
	"time"

	"github.com/sview-project/sview/internal/sentinel"
)

// origin aligns every bucket to UTC midnight, whatever the session time zone.
const origin = "'2000-01-01 00:00:00+00'::timestamptz"

// dimensions are the columns of a table that a rollup keeps apart, besides country and asn
// (which are filled from geo_prefixes when the raw row has none).
func dimensions(table string) []string {
	switch table {
	case "incidents":
		return []string{"identity_id", "trap", "action", "ip"}
	case "passwords":
		return []string{"username", "password", "identity_id", "trap", "ip"}
	case "ports":
		return []string{"port", "protocol", "identity_id", "ip"}
	}
	panic("aggregator: table outside sentinel.Tables: " + table)
}

// bucket is the width of one bucket of a precision.
func bucket(precision string) time.Duration {
	switch precision {
	case "quarterly":
		return 15 * time.Minute
	case "hourly":
		return time.Hour
	case "daily":
		return 24 * time.Hour
	}
	panic("aggregator: precision outside sentinel.Precisions: " + precision)
}

// sourcePrecision is the precision a precision is rolled up from; "raw" for quarterly.
func sourcePrecision(precision string) string {
	for i, p := range sentinel.Precisions {
		if p == precision && i > 0 {
			return sentinel.Precisions[i-1]
		}
	}
	return "raw"
}

// closingSource is the precision whose watermark lets a precision close its windows: raw for
// quarterly, quarterly for the others. Daily rows are sums of quarterly rows as much as of
// hourly ones, so a day closes once its quarters are final, without waiting for its hours;
// hourly and daily then run side by side (see rewriteSQL for how daily reads both).
func closingSource(precision string) string {
	if precision == "quarterly" {
		return "raw"
	}
	return "quarterly"
}

// readers are the coarser precisions that read rows of this one: those rolled up from it,
// and those that read it above their own source's watermark (daily reads quarterly).
func readers(precision string) []string {
	var out []string
	for _, p := range sentinel.Precisions {
		if sourcePrecision(p) == precision || closingSource(p) == precision {
			out = append(out, p)
		}
	}
	return out
}

// nextPrecision is the coarser precision rolled up from this one, "" for the coarsest.
func nextPrecision(precision string) string {
	for i, p := range sentinel.Precisions {
		if p == precision && i+1 < len(sentinel.Precisions) {
			return sentinel.Precisions[i+1]
		}
	}
	return ""
}

// tableOf names the table holding a precision of a source table.
func tableOf(table, precision string) string {
	if precision == "raw" {
		return table
	}
	return table + "_" + precision
}

// totalsOf names the narrow twin of a rollup: incidents summed without ip and probe, which
// the engine reads for incident counts that need neither. "" when the table has none.
func totalsOf(table, precision string) string {
	if table != "incidents" || precision == "raw" {
		return ""
	}
	return tableOf(table, precision) + "_totals"
}

// totalsColumns are the columns of a narrow twin, raw_count last.
const totalsColumns = "time, trap, action, country, asn, raw_count"

// totalsInsert inserts into the narrow twin of (table, precision) the rows of from (a table or
// a CTE with the wide rollup's columns) summed without ip and probe.
func totalsInsert(table, precision, from string) string {
	return fmt.Sprintf(`INSERT INTO %s (%s)
	SELECT time, trap, action, country, asn, sum(raw_count) FROM %s GROUP BY 1, 2, 3, 4, 5`,
		totalsOf(table, precision), totalsColumns, from)
}

// rewriteSQL returns the statements that rewrite the buckets of [$1, $2) of one (table,
// precision): the deletes, and an insert that answers (raw rows read, buckets written); the raw
// row count is 0 above quarterly. Where the rollup has a narrow twin, the insert fills it too,
// from the rows it wrote, instead of reading them back. The daily insert takes a third parameter, the hourly
// watermark clamped to [$1, $2]: where it stops reading hourly rows and reads quarterly ones.
// Rolling up from raw also fills a missing country or asn from geo_prefixes; the lookup is
// done once per group, not per raw row, and the groups are merged again afterwards.
func rewriteSQL(table, precision string) (dels []string, ins string) {
	dst := tableOf(table, precision)
	src := tableOf(table, sourcePrecision(precision))
	dims := dimensions(table)
	cols := strings.Join(dims, ", ")
	width := fmt.Sprintf("'%d seconds'::interval", int(bucket(precision).Seconds()))
	groupBy := make([]string, len(dims)+3)
	for i := range groupBy {
		groupBy[i] = fmt.Sprint(i + 1)
	}
	// Rows go in key order: the unique key's index fills page by page, and a probe's rows of one
	// bucket sit together on disk, which a probe-filtered read over months pays for.
	group := strings.Join(groupBy, ", ")
	dels = []string{fmt.Sprintf("DELETE FROM %s WHERE time >= $1 AND time < $2", dst)}
	returning, totals := "1", ""
	if twin := totalsOf(table, precision); twin != "" {
		dels = append(dels, fmt.Sprintf("DELETE FROM %s WHERE time >= $1 AND time < $2", twin))
		returning, totals = totalsColumns, ", totals AS (\n\t"+totalsInsert(table, precision, "ins")+")"
	}
	if src != table {
		// Coarser precisions only regroup; no source count, so the source is read once.
		from := fmt.Sprintf("%s WHERE time >= $1 AND time < $2", src)
		if fresh := closingSource(precision); fresh != sourcePrecision(precision) {
			// Daily reads hourly rows below $3 (the hourly watermark, where hourly is final)
			// and quarterly rows from $3 on: both hold the same sums, so the result does not
			// depend on where the hourly step is.
			from = fmt.Sprintf(`(SELECT time, %[1]s, country, asn, raw_count FROM %[2]s WHERE time >= $1 AND time < $3
		UNION ALL SELECT time, %[1]s, country, asn, raw_count FROM %[3]s WHERE time >= $3 AND time < $2) s`,
				cols, src, tableOf(table, fresh))
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
