package engine

import (
	"fmt"
	"strings"

	"github.com/sview-project/sview/internal/twin"
)

// keyTypes are the SQL types of the twin key columns, to turn text arrays back into keys.
var keyTypes = map[string]string{"ip": "inet", "username": "text", "password": "text", "protocol": "protocol_t", "port": "integer"}

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
	}{{src.twin.Table(string(src.precision)), src.listed}, {src.table, src.unlisted}} {
		if len(a.spans) > 0 {
			arms = append(arms, fmt.Sprintf("SELECT %s FROM %s WHERE %s%s", cols, a.table, s.spans(a.spans), keyIn))
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
	return fmt.Sprintf("(%s) IN (SELECT * FROM unnest(%s))", strings.Join(cols, ", "), strings.Join(arrays, ", "))
}

// keyTexts are the twin's key columns as text, the form keys travel in.
func keyTexts(t twin.Twin) []string {
	texts := make([]string, len(t.Keys))
	for i, k := range t.Keys {
		texts[i] = k + "::text"
	}
	return texts
}

// sumsByKey sums a table over spans per key of the twin, as rows (key texts…, sum, 0) for
// scanKeys, keeping the rows where kept holds.
func sumsByKey(t twin.Twin, table string, spans []span, kept string) statement {
	var st statement
	st.sql = fmt.Sprintf("SELECT %s, sum(raw_count)::bigint, 0::bigint FROM %s WHERE %s AND %s GROUP BY %s",
		strings.Join(keyTexts(t), ", "), table, st.spans(spans), kept, strings.Join(t.Keys, ", "))
	return st
}
