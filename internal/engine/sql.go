package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
)

// dimension is how one groupBy value reads from a table: the columns grouped on (compared
// with IN for the top-N), one label per shown key with its text expression, and conditions
// that drop meaningless keys. Every identifier here comes from this closed table.
type dimension struct {
	cols   []string
	labels []label
	where  []string
}

type label struct {
	name string
	text string
}

func one(col, name, text string) dimension {
	return dimension{cols: []string{col}, labels: []label{{name, text}}}
}

// empty logins are not passwords: the original dropped ” and a lone newline from its lists.
func login(col string) dimension {
	d := one(col, col, col)
	d.where = []string{col + " <> ''", col + " <> E'\\n'"}
	return d
}

func dimensionOf(table derived.Family, groupBy string) dimension {
	switch groupBy {
	case "country":
		return one("country", "country", "country")
	case "asn":
		return one("asn", "asn", "asn::text")
	case "trap":
		return one("trap", "trap", "trap::text")
	case "action":
		return one("action", "action", "action::text")
	case "ip":
		return one("ip", "ip", "host(ip)")
	case "probe":
		return one("identity_id", "probe", "identity_id::text")
	case "password", "username":
		return login(groupBy)
	case "port":
		return dimension{cols: []string{"protocol", "port"}, labels: []label{{"port", "protocol::text || '/' || port::text"}}}
	case "combination":
		if table == derived.Passwords {
			u, p := login("username"), login("password")
			return dimension{cols: []string{"username", "password"}, labels: append(u.labels, p.labels...), where: append(u.where, p.where...)}
		}
		return dimension{cols: []string{"trap", "action"}, labels: []label{{"trap", "trap::text"}, {"action", "action::text"}}}
	}
	return dimension{}
}

// sourceTable is the table a query reads at a precision. Incident counts that neither group
// nor filter by ip or probe read the narrow twin of an incidents rollup (summed over trap,
// action, country and asn only, written with the wide bucket under the same watermark); every
// other query reads the wide rollup, or raw, unless a ranked twin holds its columns (see
// twinOf in twins.go).
func sourceTable(q query.Query, p period.Precision) string {
	t := derived.RollupOf(q.Table()).Name(p)
	totals, ok := derived.Find(derived.Totals, q.Table())
	if !ok || !totals.At(p) || q.Metric != "incidents" {
		return t
	}
	switch q.GroupBy {
	case "", "country", "asn", "trap", "action", "combination":
	default:
		return t
	}
	f := q.Filters
	// Password, username and port are not incident columns; Validate rejects them, but a
	// filter the twin lacks must never be dropped silently.
	if len(f.Probe) > 0 || f.IP != "" || f.Password != "" || f.Username != "" || len(f.Port) > 0 || q.Restrict != nil {
		return t
	}
	return totals.Name(p)
}

// filterColumns lists the columns q's filters compare (as conditions does); ok is false for a
// filter no stats table has, and for a scope restriction, which only the wide rollups and raw
// answer (twins, totals and sightings would have to carry probe, asn and ip to apply it).
func filterColumns(q query.Query) (cols []string, ok bool) {
	f := q.Filters
	for _, c := range []struct {
		set bool
		col string
	}{
		{len(f.Probe) > 0, "identity_id"}, {len(f.ASN) > 0, "asn"}, {len(f.Country) > 0, "country"},
		{len(f.Trap) > 0, "trap"}, {len(f.Action) > 0, "action"}, {f.IP != "", "ip"},
		{f.Password != "", "password"}, {f.Username != "", "username"}, {len(f.Port) > 0, "port"},
	} {
		if c.set {
			cols = append(cols, c.col)
		}
	}
	return cols, len(f.Tag) == 0 && q.Restrict == nil
}

// statement is SQL with its positional parameters.
type statement struct {
	sql  string
	args []any
}

func (s *statement) param(v any) string {
	s.args = append(s.args, v)
	return fmt.Sprintf("$%d", len(s.args))
}

// conditions is the WHERE clause shared by every statement of one query: the time span and
// each filter, all values as parameters.
func (s *statement) conditions(q query.Query, from, until time.Time, d dimension) string {
	c := []string{"time >= " + s.param(from), "time < " + s.param(until)}
	f := q.Filters
	if len(f.Probe) > 0 {
		c = append(c, "identity_id = ANY("+s.param(f.Probe)+"::bigint[])")
	}
	if len(f.ASN) > 0 {
		c = append(c, "asn = ANY("+s.param(f.ASN)+"::bigint[])")
	}
	if len(f.Country) > 0 {
		c = append(c, "country = ANY("+s.param(f.Country)+"::text[])")
	}
	// Enums compare as text so no enum type has to be registered with the driver.
	if len(f.Trap) > 0 {
		c = append(c, "trap::text = ANY("+s.param(f.Trap)+"::text[])")
	}
	if len(f.Action) > 0 {
		c = append(c, "action::text = ANY("+s.param(f.Action)+"::text[])")
	}
	if p, ok := f.IPPrefix(); ok {
		if p.IsSingleIP() {
			c = append(c, "ip = "+s.param(p.Addr().String())+"::inet")
		} else {
			c = append(c, "ip <<= "+s.param(p.String())+"::inet")
		}
	}
	if f.Password != "" {
		c = append(c, "password = "+s.param(f.Password))
	}
	if f.Username != "" {
		c = append(c, "username = "+s.param(f.Username))
	}
	if len(f.Port) > 0 {
		c = append(c, "port = ANY("+s.param(f.Port)+"::bigint[])")
	}
	if q.Restrict != nil {
		c = append(c, s.restriction(*q.Restrict))
	}
	for _, col := range d.cols {
		c = append(c, col+" IS NOT NULL")
	}
	c = append(c, d.where...)
	return strings.Join(c, " AND ")
}

// restriction matches the rows of a scope: any of its probes, ASNs or prefixes; none is false.
func (s *statement) restriction(r query.Restriction) string {
	var anyOf []string
	if len(r.Probes) > 0 {
		anyOf = append(anyOf, "identity_id = ANY("+s.param(r.Probes)+"::bigint[])")
	}
	if len(r.ASNs) > 0 {
		anyOf = append(anyOf, "asn = ANY("+s.param(r.ASNs)+"::bigint[])")
	}
	if len(r.Prefixes) > 0 {
		anyOf = append(anyOf, "ip <<= ANY("+s.param(r.Prefixes)+"::inet[])")
	}
	if len(anyOf) == 0 {
		return "false"
	}
	return "(" + strings.Join(anyOf, " OR ") + ")"
}

// aggregation is what a grouped read selects from (FROM item and WHERE), the bucket
// expression to select and the measure.
type aggregation struct {
	from, bucket, measure string
}

// aggregate reads a metric from the rows of from that match where (and the bucket expression,
// if any): summed raw_count, or distinct attacking addresses.
// count(DISTINCT ip) sorts each group; a count over a SELECT DISTINCT subquery is 2–4× faster
// when its groups fit in work_mem, but PostgreSQL 15's hash aggregate spills so badly beyond
// that (a year of daily (bucket, ip) at a million incidents a day: over 90 s instead of 5.5 s
// at the default 4 MB) that the sort stays. Year-long attackers read the sightings instead.
func aggregate(metric, from, where, bucket string) aggregation {
	m := "coalesce(sum(raw_count), 0)::bigint"
	if metric == "attackers" {
		m = "count(DISTINCT ip)"
	}
	return aggregation{from: from + " WHERE " + where, bucket: bucket, measure: m}
}

// seriesSQL reads the points of a time series. Without grouping it returns (bucket, value);
// grouped, the top limit keys over the whole span are ranked first (ties by key, so the choice
// is deterministic) and it returns (rank, labels…, bucket, value) for those keys only.
func seriesSQL(q query.Query, w period.Window, src source) statement {
	var s statement
	from := s.from(src)
	d := dimensionOf(q.Table(), q.GroupBy)
	where := s.conditions(q, w.From, w.Until, d)
	bucket := "date_bin(" + s.param(w.Bucket) + "::interval, time, " + s.param(w.From) + "::timestamptz)"
	if q.GroupBy == "" {
		a := aggregate(q.Metric, from, where, bucket)
		s.sql = fmt.Sprintf("SELECT %s AS bucket, %s AS value FROM %s GROUP BY 1 ORDER BY 1", a.bucket, a.measure, a.from)
		return s
	}
	cols := strings.Join(d.cols, ", ")
	var keys, texts, join []string
	for i, c := range d.cols {
		keys = append(keys, fmt.Sprintf("%s AS k%d", c, i))
		join = append(join, fmt.Sprintf("k%d", i))
	}
	for i, l := range d.labels {
		texts = append(texts, fmt.Sprintf("%s AS l%d", l.text, i))
	}
	var topLabels []string
	for i := range d.labels {
		topLabels = append(topLabels, fmt.Sprintf("top.l%d", i))
	}
	limit := s.param(q.Limit)
	top := aggregate(q.Metric, from, where, "")
	points := aggregate(q.Metric, from, fmt.Sprintf("%s AND (%s) IN (SELECT %s FROM top)", where, cols, strings.Join(join, ", ")), bucket)
	s.sql = fmt.Sprintf(`WITH top AS (
	SELECT %[1]s, %[2]s, row_number() OVER (ORDER BY %[3]s DESC, %[4]s) AS rank
	FROM %[5]s
	GROUP BY %[4]s
	ORDER BY rank
	LIMIT %[6]s
), points AS (
	SELECT %[7]s AS bucket, %[1]s, %[8]s AS value
	FROM %[9]s
	GROUP BY 1, %[4]s
)
SELECT top.rank, %[10]s, points.bucket, points.value
FROM top LEFT JOIN points USING (%[11]s)
ORDER BY top.rank, points.bucket`,
		strings.Join(keys, ", "), strings.Join(texts, ", "), top.measure, cols, top.from, limit,
		points.bucket, points.measure, points.from, strings.Join(topLabels, ", "), strings.Join(join, ", "))
	return s
}

// tableSQL reads the ranked rows of a table or map: (labels…, value), largest first; without
// grouping one row holding the total. limit 0 reads every key; rowCap bounds the read so an
// oversized answer is detected without fetching it whole.
func tableSQL(q query.Query, w period.Window, src source, rowCap int) statement {
	var s statement
	from := s.from(src)
	d := dimensionOf(q.Table(), q.GroupBy)
	where := s.conditions(q, w.From, w.Until, d)
	a := aggregate(q.Metric, from, where, "")
	if q.GroupBy == "" {
		s.sql = fmt.Sprintf("SELECT %s AS value FROM %s", a.measure, a.from)
		return s
	}
	var texts []string
	for _, l := range d.labels {
		texts = append(texts, l.text)
	}
	cols := strings.Join(d.cols, ", ")
	limit := rowCap
	if q.Limit > 0 {
		limit = min(q.Limit, rowCap)
	}
	s.sql = fmt.Sprintf("SELECT %s, %s AS value FROM %s GROUP BY %s ORDER BY value DESC, %s LIMIT %s",
		strings.Join(texts, ", "), a.measure, a.from, cols, cols, s.param(limit))
	return s
}
