package engine

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
)

func TestFill(t *testing.T) {
	for _, c := range []struct {
		template string
		vars     map[string]string
		want     string
	}{
		{"SELECT {a} FROM {b} GROUP BY {a}", map[string]string{"a": "x, y", "b": "t"}, "SELECT x, y FROM t GROUP BY x, y"},
		{"{a}{b}", map[string]string{"a": "{b}", "b": "2"}, "{b}2"}, // a value is not a template
		{"WHERE {a}{missing}", map[string]string{"a": "true"}, "WHERE true{missing}"},
		{"no placeholder", nil, "no placeholder"},
	} {
		require.Equal(t, c.want, fill(c.template, c.vars), c.template)
	}
}

var placeholder = regexp.MustCompile(`\{\w+\}`)

// requireFilled: no {placeholder} is left in st, and its SQL refers to every parameter and no
// other.
func requireFilled(t *testing.T, name string, st statement) {
	t.Helper()
	require.NotRegexp(t, placeholder, st.sql, name)
	for i := range len(st.args) + 1 {
		used := regexp.MustCompile(`\$` + strconv.Itoa(i+1) + `\b`).MatchString(st.sql)
		require.Equal(t, i < len(st.args), used, "%s: $%d of %d parameters\n%s", name, i+1, len(st.args), st.sql)
	}
}

// TestStatementsFillEveryPlaceholder builds every statement the engine sends, for every
// metric, grouping and format, over plain tables, over twins with and without the keys of a
// top-N, over the sightings and for the pruning, without a database.
func TestStatementsFillEveryPlaceholder(t *testing.T) {
	p, ok := period.Lookup("1w")
	require.True(t, ok)
	w := p.Window(testNow, true)
	step := w.Source.Step()
	// Buckets 1, 2, 4 and 10 up to the last three listed: both arms of a twin read have
	// several spans.
	listedAt := map[time.Time]bool{}
	for i, b := 0, w.From; b.Before(w.Until.Add(-3 * step)); i, b = i+1, b.Add(step) {
		listedAt[b] = i == 1 || i == 2 || i == 4 || i >= 10
	}
	listed, unlisted := cut(w.From, w.Until, step, listedAt)
	require.NotEmpty(t, listed)
	require.NotEmpty(t, unlisted)

	built := 0
	build := func(name string, st statement) {
		t.Helper()
		requireFilled(t, name, st)
		built++
	}
	for _, metric := range query.Metrics {
		table := query.Table(metric)
		for _, groupBy := range append([]string{""}, query.GroupBysOf(table)...) {
			for _, format := range query.Formats {
				for _, filtered := range []bool{false, true} {
					in := fmt.Sprintf(`{"metric":%q,"groupBy":%q,"format":%q,"limit":5}`, metric, groupBy, format)
					if filtered {
						in = fmt.Sprintf(`{"metric":%q,"groupBy":%q,"format":%q,"limit":5,"filters":{"country":["CZ"]}}`, metric, groupBy, format)
					}
					q, err := query.Parse([]byte(in))
					if err != nil {
						continue // not a valid combination
					}
					sources := []source{{table: sourceTable(q, w.Source)}}
					if tw, ok := twinOf(q, w.Source); ok {
						src := source{table: sourceTable(q, w.Source), twin: &tw, precision: w.Source, listed: listed, unlisted: unlisted}
						sources = append(sources, src)
						src.keys = columns([][]string{make([]string, len(tw.Keys))}, len(tw.Keys))
						sources = append(sources, src)
					}
					for _, src := range sources {
						build(in+" "+src.name(), seriesSQL(q, w, src))
						build(in+" "+src.name(), tableSQL(q, w, src, 100))
					}
					if sightingsApply(q, w) {
						src := sightingsSource{precision: w.Source, built: listed, unbuilt: unlisted[:2]}
						build(in+" sightings", sightingsSeriesSQL(q, w, src))
						build(in+" sightings", sightingsTableSQL(q, w, src, 100))
					}
				}
			}
		}
	}
	for _, tw := range derived.All {
		if tw.Kind != derived.Ranked {
			continue
		}
		table := tw.Name(w.Source)
		build(table+" residuals", residualsSQL(table, listed))
		build(table+" candidates", candidatesSQL(tw, table, listed, "true"))
		build(table+" sums", sumsByKey(tw, table, unlisted, "true"))
		src := source{table: "wide", twin: &tw, precision: w.Source, listed: listed, unlisted: unlisted}
		src.keys = columns([][]string{make([]string, len(tw.Keys)), make([]string, len(tw.Keys))}, len(tw.Keys))
		build(table+" exact sums", exactSumsSQL(src, "true"))
		for _, k := range tw.Keys {
			require.NotEmpty(t, keyTypes[k], "%s: key %s has no type to turn pruned keys back into", table, k)
		}
	}
	t.Logf("%d statements", built)
	require.Greater(t, built, 100)
}
