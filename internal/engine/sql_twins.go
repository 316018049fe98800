package engine

import (
	"strconv"
	"strings"

	"github.com/sview-project/sview/internal/derived"
)

// keyTypes are the SQL types of the twin key columns, to turn text arrays back into keys.
var keyTypes = map[string]string{"ip": "inet", "username": "text", "password": "text", "protocol": "protocol_t", "port": "integer",
	"trap": "trap_t", "action": "action_t", "country": "text"}

// from is the FROM item of src. Each arm carries its own spans and key restriction so the
// twin's indexes serve it; the query's own conditions are pushed into both arms by the planner.
func (s *statement) from(src source) string {
	if src.twin == nil {
		return src.table
	}
	cols := "time, " + strings.Join(src.twin.Keys, ", ") + ", raw_count"
	var keyIn string
	if src.keys != nil {
		keyIn = " AND " + s.keyIn(src.twin.Keys, src.keys)
	}
	var arms []string
	for _, a := range []struct {
		table string
		spans []span
	}{{src.twin.Name(src.precision), src.listed}, {src.table, src.unlisted}} {
		if len(a.spans) > 0 {
			arms = append(arms, fill("SELECT {cols} FROM {table} WHERE {spans}{keyIn}",
				map[string]string{"cols": cols, "table": a.table, "spans": s.spans(a.spans), "keyIn": keyIn}))
		}
	}
	return "(" + strings.Join(arms, " UNION ALL ") + ") AS src"
}

// spans is a condition on time matching the spans.
func (s *statement) spans(spans []span) string {
	c := make([]string, len(spans))
	for i, sp := range spans {
		c[i] = "time >= " + s.param(sp.from) + " AND time < " + s.param(sp.to)
	}
	return "(" + strings.Join(c, " OR ") + ")"
}

// keyIn is a condition matching the keys (one slice of texts per column).
func (s *statement) keyIn(cols []string, keys [][]string) string {
	arrays := make([]string, len(cols))
	for i, c := range cols {
		arrays[i] = s.param(keys[i]) + "::text[]"
		if typ := keyTypes[c]; typ != "text" {
			arrays[i] += "::" + typ + "[]"
		}
	}
	if len(cols) == 1 {
		return cols[0] + " = ANY(" + arrays[0] + ")"
	}
	return "(" + strings.Join(cols, ", ") + ") IN (SELECT * FROM unnest(" + strings.Join(arrays, ", ") + "))"
}

// keyTexts are the twin's key columns as text, the form keys travel in.
func keyTexts(t derived.Table) []string {
	texts := make([]string, len(t.Keys))
	for i, k := range t.Keys {
		texts[i] = k + "::text"
	}
	return texts
}

// residualsSQL sums the counts at rank TopRanks+1 of a twin's buckets over spans: the
// residuals of those buckets (see topn).
func residualsSQL(table string, spans []span) statement {
	var s statement
	where := s.spans(spans)
	s.sql = fill("SELECT coalesce(sum(raw_count), 0)::bigint FROM {table} WHERE {where} AND rank = {rank}",
		map[string]string{"table": table, "where": where, "rank": strconv.Itoa(derived.TopRanks + 1)})
	return s
}

// candidatesSQL reads the candidates a twin's buckets over spans give, as rows (key texts…,
// lo, residuals) for scanKeys: per key of rank <= TopRanks where kept holds, its counts and
// the residuals of the buckets that gave it, summed by PostgreSQL so only one row per key
// travels.
func candidatesSQL(t derived.Table, table string, spans []span, kept string) statement {
	var s statement
	where := s.spans(spans)
	s.sql = fill(`WITH ranked AS (
	SELECT time, rank, {keys}, raw_count FROM {table} WHERE {where} AND rank <= {residualRank}
), residual AS (
	SELECT time, raw_count AS residual FROM ranked WHERE rank = {residualRank}
)
SELECT {texts}, sum(raw_count)::bigint, coalesce(sum(residual), 0)::bigint
FROM ranked LEFT JOIN residual USING (time)
WHERE rank <= {topRanks} AND {kept}
GROUP BY {keys}`, map[string]string{
		"keys": strings.Join(t.Keys, ", "), "table": table, "where": where, "residualRank": strconv.Itoa(derived.TopRanks + 1),
		"texts": strings.Join(keyTexts(t), ", "), "topRanks": strconv.Itoa(derived.TopRanks), "kept": kept,
	})
	return s
}

// sumsByKey sums a table over spans per key of the twin, keeping the rows where kept holds.
func sumsByKey(t derived.Table, table string, spans []span, kept string) statement {
	var s statement
	where := s.spans(spans) + " AND " + kept
	s.keySums(t, table, where)
	return s
}

// exactSumsSQL sums src (narrowed to its keys) per key of its twin, keeping the rows where
// kept holds.
func exactSumsSQL(src source, kept string) statement {
	var s statement
	from := s.from(src)
	s.keySums(*src.twin, from, kept)
	return s
}

// keySums makes s sum raw_count per key of t over the rows of from where where holds (both
// built on s), as rows (key texts…, sum, 0) for scanKeys.
func (s *statement) keySums(t derived.Table, from, where string) {
	s.sql = fill("SELECT {texts}, sum(raw_count)::bigint, 0::bigint FROM {from} WHERE {where} GROUP BY {keys}",
		map[string]string{"texts": strings.Join(keyTexts(t), ", "), "from": from, "where": where, "keys": strings.Join(t.Keys, ", ")})
}
