package query

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseTrend(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Query
	}{
		{
			name: "defaults: table, rising, top 15",
			in:   `{"refId":"A","queryType":"trend","metric":"incidents","groupBy":"asn","period":"1w"}`,
			want: Query{QueryType: "trend", Metric: "incidents", GroupBy: Grouping{"asn"}, Format: "table", Period: "1w", Limit: 15, Direction: "rising"},
		},
		{
			name: "numeric defaults to the slope; filters and exclusions as stats; fields of other types dropped",
			in: `{"queryType":"Trend","metric":"usages","groupBy":"password","format":"numeric","direction":"FALLING","limit":"40",
			      "filters":{"country":["cz"]},"exclude":{"asn":[64500]},"minScore":3,"sha1":"x"}`,
			want: Query{QueryType: "trend", Metric: "usages", GroupBy: Grouping{"password"}, Format: "numeric", Limit: 40, Direction: "falling",
				Measure: "slope_per_day", Filters: Filters{Country: []string{"CZ"}}, Exclude: Filters{ASN: []int64{64500}}},
		},
		{
			name: "a measure",
			in:   `{"queryType":"trend","metric":"scans","groupBy":"port","format":"numeric","measure":"change_ratio"}`,
			want: Query{QueryType: "trend", Metric: "scans", GroupBy: Grouping{"port"}, Format: "numeric", Limit: 15, Direction: "rising", Measure: "change_ratio"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := Parse([]byte(c.in))
			require.NoError(t, err)
			require.Equal(t, c.want, q)
			b, err := json.Marshal(q)
			require.NoError(t, err)
			again, err := Parse(b)
			require.NoError(t, err)
			require.Equal(t, q, again, "the JSON form is canonical")
		})
	}
}

func TestParseTrendErrors(t *testing.T) {
	cases := []struct {
		in, err string
	}{
		{`{"queryType":"trend","groupBy":"asn"}`, "missing field metric"},
		{`{"queryType":"trend","metric":"incidents"}`, "missing field groupBy: a trend query ranks the keys of one grouping (allowed: country, asn, trap, action, ip, probe, combination)"},
		{`{"queryType":"trend","metric":"scans","groupBy":"password"}`, `unsupported combination groupBy "password": metric scans (table ports) has no such column (allowed: country, asn, ip, probe, port)`},
		{`{"queryType":"trend","metric":"incidents","groupBy":"asn","format":"timeseries"}`, `invalid field format "timeseries": a trend is a table, or numeric for alert rules (allowed: table, numeric)`},
		{`{"queryType":"trend","metric":"incidents","groupBy":"asn","direction":"up"}`, `invalid field direction "up": unknown direction (allowed: rising, falling)`},
		{`{"queryType":"trend","metric":"incidents","groupBy":"asn","format":"numeric","measure":"slope"}`, `invalid field measure "slope"`},
		{`{"queryType":"trend","metric":"incidents","groupBy":"asn","measure":"change"}`, `unsupported combination measure "change": only a numeric trend answers one measure`},
		{`{"queryType":"trend","metric":"incidents","groupBy":"asn","period":"2w"}`, `invalid field period "2w"`},
		{`{"queryType":"trend","metric":"incidents","groupBy":"asn","limit":-1}`, `invalid field limit "-1"`},
		{`{"queryType":"trend","metric":"incidents","groupBy":"asn","filters":{"counrty":["CZ"]}}`, `filters: unknown key "counrty"; allowed:`},
		{`{"queryType":"trend","metric":"incidents","groupBy":"asn","filters":{"port":[22]}}`, `unsupported combination filters.port`},
		{`{"queryType":"trend","metric":"incidents","groupBy":"asn","dirction":"rising"}`, `query: unknown key "dirction"`},
		{`{"queryType":"trend","preset":"top_countries_by_incidents_list"}`, `presets are stats queries, not trend`},
		{`{"queryType":"trend","metric":"usages","groupBy":"asn","password":"x"}`, `a trend query is narrowed to a password by filters.password`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.in))
		require.ErrorContains(t, err, c.err, c.in)
	}
}

func TestTrendFieldsLeaveOtherTypes(t *testing.T) {
	q, err := Parse([]byte(`{"queryType":"stats","metric":"incidents","direction":"falling","measure":"change"}`))
	require.NoError(t, err)
	require.Empty(t, q.Direction+q.Measure, "a stats query drops the trend's fields, as an editor switching types keeps them")
}

func TestTrendScope(t *testing.T) {
	q, err := Parse([]byte(`{"queryType":"trend","metric":"incidents","groupBy":"probe"}`))
	require.NoError(t, err)
	_, err = Scope{}.Apply(q)
	require.ErrorIs(t, err, ErrForbidden, "a trend by probe shows the caller's probes only")
	got, err := Scope{Probes: []int64{3}, ASNs: []int64{64500}}.Apply(q)
	require.NoError(t, err)
	require.Equal(t, []int64{3}, got.Filters.Probe)
	require.Equal(t, &Restriction{Probes: []int64{3}, ASNs: []int64{64500}}, got.Restrict)
	grouped := got.Grouped(FormatTable, 0)
	require.Equal(t, Query{QueryType: "stats", Metric: "incidents", GroupBy: Grouping{"probe"}, Format: "table",
		Filters: Filters{Probe: []int64{3}}, Restrict: got.Restrict}, grouped, "the stats queries a trend reads keep its scope")
}
