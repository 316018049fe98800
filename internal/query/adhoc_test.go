package query

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/period"
)

func TestAdhoc(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    Query
		ignored []string
	}{
		{
			name: "= sets a filter the panel does not have",
			in:   `{"metric":"incidents","adhoc":[{"key":"country","operator":"=","value":"us"}]}`,
			want: Query{QueryType: "stats", Metric: "incidents", Format: "timeseries", Filters: Filters{Country: []string{"US"}}},
		},
		{
			name: "= intersects with the panel's own filter",
			in:   `{"metric":"incidents","filters":{"country":["US","CN"]},"adhoc":[{"key":"country","operator":"=","value":"US"}]}`,
			want: Query{QueryType: "stats", Metric: "incidents", Format: "timeseries", Filters: Filters{Country: []string{"US"}}},
		},
		{
			name: "an empty intersection matches nothing, the panel's filter kept",
			in:   `{"metric":"incidents","filters":{"country":["US"]},"adhoc":[{"key":"country","operator":"=","value":"CN"}]}`,
			want: Query{QueryType: "stats", Metric: "incidents", Format: "timeseries", Filters: Filters{Country: []string{"US"}}, Empty: true},
		},
		{
			name: "two ad-hoc filters on one key both hold",
			in: `{"metric":"incidents","adhoc":[{"key":"asn","operator":"=|","value":"64500","values":["64500","64501",64502]},
			      {"key":"asn","operator":"=|","values":["64502","64501","64999"]}]}`,
			want: Query{QueryType: "stats", Metric: "incidents", Format: "timeseries", Filters: Filters{ASN: []int64{64501, 64502}}},
		},
		{
			name: "!= and !=| add to the exclusions",
			in: `{"metric":"incidents","groupBy":"country","exclude":{"country":["RU"]},"adhoc":[{"key":"country","operator":"!=","value":"cn"},
			      {"key":"trap","operator":"!=|","value":"","values":["fwlogs","minipot_ftp"]},{"key":"ip","operator":"!=","value":"198.51.100.7/24"}]}`,
			want: Query{QueryType: "stats", Metric: "incidents", GroupBy: Grouping{"country"}, Format: "timeseries", Limit: 7,
				Exclude: Filters{Country: []string{"CN", "RU"}, Trap: []string{"fwlogs", "minipot_ftp"}, IP: []string{"198.51.100.0/24"}}},
		},
		{
			name: "ip: the more specific of nested prefixes",
			in: `{"metric":"incidents","filters":{"ip":["10.0.0.0/8","192.0.2.0/24","2001:db8::/32"]},
			      "adhoc":[{"key":"ip","operator":"=|","values":["10.1.0.0/16","192.0.0.0/16","203.0.113.9"]}]}`,
			want: Query{QueryType: "stats", Metric: "incidents", Format: "timeseries", Filters: Filters{IP: []string{"10.1.0.0/16", "192.0.2.0/24"}}},
		},
		{
			name: "ip: disjoint prefixes match nothing",
			in:   `{"metric":"incidents","filters":{"ip":"10.0.0.0/8"},"adhoc":[{"key":"ip","operator":"=","value":"192.0.2.1"}]}`,
			want: Query{QueryType: "stats", Metric: "incidents", Format: "timeseries", Filters: Filters{IP: []string{"10.0.0.0/8"}}, Empty: true},
		},
		{
			name: "password: equal or empty",
			in: `{"metric":"usages","filters":{"password":"Secret"},"adhoc":[{"key":"password","operator":"=","value":"Secret"},
			      {"key":"username","operator":"=","value":"Root"}]}`,
			want: Query{QueryType: "stats", Metric: "usages", Format: "timeseries", Filters: Filters{Password: []string{"Secret"}, Username: []string{"Root"}}},
		},
		{
			name: "password: another one matches nothing",
			in:   `{"metric":"usages","filters":{"password":"secret"},"adhoc":[{"key":"password","operator":"=","value":"Secret"}]}`,
			want: Query{QueryType: "stats", Metric: "usages", Format: "timeseries", Filters: Filters{Password: []string{"secret"}}, Empty: true},
		},
		{
			name: "password and username: =| intersects lists, case kept",
			in: `{"metric":"usages","filters":{"password":["123456","Secret","x"]},"adhoc":[{"key":"password","operator":"=|","values":["Secret","secret","123456"]},
			      {"key":"username","operator":"=|","values":["root","admin","root"]}]}`,
			want: Query{QueryType: "stats", Metric: "usages", Format: "timeseries",
				Filters: Filters{Password: []string{"123456", "Secret"}, Username: []string{"admin", "root"}}},
		},
		{
			name: "password and username: != and !=| add to the exclusions",
			in: `{"metric":"usages","exclude":{"username":"root"},"adhoc":[{"key":"username","operator":"!=","value":"admin"},
			      {"key":"password","operator":"!=|","values":["b","a"]},{"key":"password","operator":"!=","value":"C"}]}`,
			want: Query{QueryType: "stats", Metric: "usages", Format: "timeseries",
				Exclude: Filters{Password: []string{"C", "a", "b"}, Username: []string{"admin", "root"}}},
		},
		{
			name: "a key the table lacks is ignored and named",
			in: `{"metric":"incidents","adhoc":[{"key":"port","operator":"=","value":"22"},{"key":"password","operator":"!=","value":"x"},
			      {"key":"country","operator":"=","value":"CZ"}]}`,
			want: Query{QueryType: "stats", Metric: "incidents", Format: "timeseries", Filters: Filters{Country: []string{"CZ"}},
				AdhocIgnored: []string{"port = 22: metric incidents (table incidents) has no port", "password != …: metric incidents (table incidents) has no password"}},
		},
		{
			name: "greylist: = on its filters, no exclusions",
			in: `{"queryType":"greylist","filters":{"tag":["ssh","telnet"]},"adhoc":[{"key":"tag","operator":"=","value":"ssh"},
			      {"key":"country","operator":"!=","value":"CZ"},{"key":"trap","operator":"=","value":"fwlogs"}]}`,
			want: Query{QueryType: "greylist", Format: "table", Filters: Filters{Tag: []string{"ssh"}},
				AdhocIgnored: []string{"country != CZ: a greylist query has no exclusions", "trap = fwlogs: the greylist has no trap"}},
		},
		{
			name: "greylist: a panel's tag within the ad-hoc ones stays",
			in:   `{"queryType":"greylist","filters":{"tag":["ssh"]},"adhoc":[{"key":"tag","operator":"=|","values":["ssh","ftp"]}]}`,
			want: Query{QueryType: "greylist", Format: "table", Filters: Filters{Tag: []string{"ssh"}}},
		},
		{
			name: "trend: = sets a filter of the metric's table",
			in:   `{"queryType":"trend","metric":"incidents","groupBy":"asn","adhoc":[{"key":"country","operator":"=","value":"US"}]}`,
			want: Query{QueryType: "trend", Metric: "incidents", GroupBy: Grouping{"asn"}, Format: "table", Limit: 15, Direction: "rising",
				Filters: Filters{Country: []string{"US"}}},
		},
		{
			name: "trend: != adds to the exclusions, a key the table lacks is ignored and named",
			in: `{"queryType":"trend","metric":"scans","groupBy":"port","exclude":{"country":["CN"]},"adhoc":[{"key":"country","operator":"!=","value":"US"},
			      {"key":"trap","operator":"=","value":"fwlogs"}]}`,
			want: Query{QueryType: "trend", Metric: "scans", GroupBy: Grouping{"port"}, Format: "table", Limit: 15, Direction: "rising",
				Exclude: Filters{Country: []string{"CN", "US"}}, AdhocIgnored: []string{"trap = fwlogs: metric scans (table ports) has no trap"}},
		},
		{
			name: "trend: an empty intersection matches nothing",
			in: `{"queryType":"trend","metric":"usages","groupBy":"password","filters":{"country":["CZ"]},
			      "adhoc":[{"key":"country","operator":"=","value":"US"}]}`,
			want: Query{QueryType: "trend", Metric: "usages", GroupBy: Grouping{"password"}, Format: "table", Limit: 15, Direction: "rising",
				Filters: Filters{Country: []string{"CZ"}}, Empty: true},
		},
		{
			name: "leak lookups and status are not narrowed",
			in:   `{"queryType":"leak","prefix":"5baa6","adhoc":[{"key":"country","operator":"=","value":"CZ"}]}`,
			want: Query{QueryType: "leak", Prefix: "5baa6"},
		},
		{
			name: "an empty list and null are no filter",
			in:   `{"metric":"scans","adhoc":[],"empty":null}`,
			want: Query{QueryType: "stats", Metric: "scans", Format: "timeseries"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := Parse([]byte(c.in))
			require.NoError(t, err)
			require.Equal(t, c.want, q)
			// The canonical JSON holds the folded filters, not the list: it parses back to the
			// same meaning, and an ignored filter is no part of it.
			b, err := json.Marshal(q)
			require.NoError(t, err)
			require.NotContains(t, string(b), "adhoc")
			again, err := Parse(b)
			require.NoError(t, err)
			c.want.AdhocIgnored = nil
			require.Equal(t, c.want, again)
		})
	}
}

func TestAdhocErrors(t *testing.T) {
	cases := []struct {
		name, in string
		kind     error
		field    string
		mention  string
	}{
		{"regex operator", `{"metric":"incidents","adhoc":[{"key":"country","operator":"=~","value":"C."}]}`, ErrUnsupported,
			"adhoc[0].operator", `"=~": ad-hoc operator not supported (allowed: =, !=, =|, !=|)`},
		{"comparison operator on a status panel too", `{"queryType":"status","adhoc":[{"key":"port","operator":"<","value":"1024"}]}`, ErrUnsupported,
			"adhoc[0].operator", "allowed: =, !=, =|, !=|"},
		{"unknown key", `{"metric":"incidents","adhoc":[{"key":"country","operator":"=","value":"CZ"},{"key":"counrty","operator":"=","value":"CZ"}]}`,
			ErrInvalidField, "adhoc[1].key", `"counrty": unknown filter key (allowed: probe, asn, country, trap, action, ip, password, username, port, taxonomy, type, identifier, feed, provider, command, tag)`},
		{"unknown entry key", `{"metric":"incidents","adhoc":[{"key":"country","operator":"=","value":"CZ","condition":"OR"}]}`,
			ErrInvalidField, "adhoc[0]", `unknown key "condition"; allowed: key, operator, value, values`},
		{"not a list", `{"metric":"incidents","adhoc":{"key":"country"}}`, ErrInvalidJSON, "", "adhoc must be a JSON array"},
		{"entry not an object", `{"metric":"incidents","adhoc":["country=CZ"]}`, ErrInvalidJSON, "", "adhoc[0] must be a JSON object"},
		{"no value", `{"metric":"incidents","adhoc":[{"key":"ip","operator":"=","value":""}]}`, ErrMissingField, "adhoc[0].value", "no value"},
		{"bad country", `{"metric":"incidents","adhoc":[{"key":"country","operator":"=","value":"USA"}]}`, ErrInvalidField,
			"adhoc[0].country", "two-letter"},
		{"bad ip", `{"metric":"incidents","adhoc":[{"key":"ip","operator":"!=","value":"10.0.0.0/33"}]}`, ErrInvalidField, "adhoc[0].ip", "CIDR"},
		{"asn not a number", `{"metric":"incidents","adhoc":[{"key":"asn","operator":"=","value":"AS64500"}]}`, ErrInvalidField,
			"adhoc[0].value", "an integer"},
		{"a password too long", `{"metric":"usages","adhoc":[{"key":"password","operator":"=|","values":["a","` + strings.Repeat("x", 1025) + `"]}]}`,
			ErrInvalidField, "adhoc[0].password", "longer than 1024 bytes"},
		{"tags no list combines", `{"queryType":"greylist","filters":{"tag":["ssh","telnet"]},"adhoc":[{"key":"tag","operator":"=","value":"ftp"}]}`,
			ErrUnsupported, "adhoc", "pick ad-hoc tags among the panel's"},
		{"forbidden probe still checked by value", `{"metric":"incidents","adhoc":[{"key":"probe","operator":"=","value":"0"}]}`, ErrInvalidField,
			"adhoc[0].probe", "positive"},
		{"empty not a boolean", `{"metric":"incidents","empty":"yes"}`, ErrInvalidJSON, "empty", "true or false"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.in))
			require.Error(t, err)
			require.ErrorIs(t, err, c.kind)
			require.Contains(t, err.Error(), c.mention)
			if c.field != "" {
				var fe *FieldError
				require.True(t, errors.As(err, &fe), "want a *FieldError, got %T: %v", err, err)
				require.Equal(t, c.field, fe.Field)
			}
		})
	}
}

// TestAdhocPasswordNotEchoed: notices and errors name a password filter by its key only.
func TestAdhocPasswordNotEchoed(t *testing.T) {
	q, err := Parse([]byte(`{"metric":"scans","adhoc":[{"key":"password","operator":"=","value":"correct horse"}]}`))
	require.NoError(t, err)
	require.Equal(t, []string{"password = …: metric scans (table ports) has no password"}, q.AdhocIgnored)
	q, err = Parse([]byte(`{"metric":"scans","adhoc":[{"key":"password","operator":"!=|","values":["correct horse","battery"]}]}`))
	require.NoError(t, err)
	require.Equal(t, []string{"password !=| …: metric scans (table ports) has no password"}, q.AdhocIgnored)
	_, err = Parse([]byte(`{"metric":"usages","adhoc":[{"key":"password","operator":"!=|","values":["battery","correct horse` + strings.Repeat(" ", 1024) + `"]}]}`))
	require.Error(t, err)
	require.NotContains(t, err.Error(), "correct horse")
}

func TestAdhocCacheKey(t *testing.T) {
	parse := func(s string) Query {
		q, err := Parse([]byte(s))
		require.NoError(t, err)
		return q
	}
	r := period.Range{}
	require.Equal(t,
		parse(`{"metric":"incidents","filters":{"country":["US"]},"exclude":{"asn":[64500]}}`).CacheKey(r),
		parse(`{"metric":"incidents","filters":{"country":["CN","US"]},"adhoc":[{"key":"country","operator":"=","value":"US"},
			{"key":"asn","operator":"!=","value":"64500"},{"key":"port","operator":"=","value":"22"}]}`).CacheKey(r),
		"ad-hoc filters folded into filters and exclusions share the answer of the same filters written out; an ignored one changes nothing")
	empty := parse(`{"metric":"incidents","filters":{"country":["US"]},"adhoc":[{"key":"country","operator":"=","value":"CN"}]}`)
	require.NotEqual(t, empty.CacheKey(r), parse(`{"metric":"incidents","filters":{"country":["US"]}}`).CacheKey(r),
		"nothing is not the panel's own answer")
}

func TestAdhocEmptyRestrictsEveryScope(t *testing.T) {
	q, err := Parse([]byte(`{"queryType":"greylist","filters":{"asn":[64500]},"adhoc":[{"key":"asn","operator":"=","value":"64501"}]}`))
	require.NoError(t, err)
	require.True(t, q.Empty)
	for _, s := range []Scope{{All: true}, {Public: true}, {ASNs: []int64{64500}}} {
		got, err := s.Apply(q)
		require.NoError(t, err)
		require.Equal(t, &Restriction{}, got.Restrict, "%+v", s)
	}
	open, err := Parse([]byte(`{"queryType":"greylist","filters":{"asn":[64500]}}`))
	require.NoError(t, err)
	got, err := Scope{All: true}.Apply(open)
	require.NoError(t, err)
	require.Nil(t, got.Restrict)
}
