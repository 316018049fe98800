package query

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/period"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Query
	}{
		{
			name: "preset expands with defaults",
			in:   `{"refId":"A","preset":"top_countries_by_attackers_graph","period":"1w"}`,
			want: Query{QueryType: "stats", Preset: "top_countries_by_attackers_graph", Metric: "attackers", GroupBy: Grouping{"country"}, Format: "timeseries", Period: "1w", Limit: 7},
		},
		{
			name: "explicit fields override the preset",
			in:   `{"preset":"top_passwords_by_usages_list","limit":"3","format":"timeseries","period":"1d"}`,
			want: Query{QueryType: "stats", Preset: "top_passwords_by_usages_list", Metric: "usages", GroupBy: Grouping{"password"}, Format: "timeseries", Period: "1d", Limit: 3},
		},
		{
			name: "explicit empty groupBy overrides the preset and drops the limit",
			in:   `{"preset":"top_traps_by_incidents_graph","groupBy":""}`,
			want: Query{QueryType: "stats", Preset: "top_traps_by_incidents_graph", Metric: "incidents", Format: "timeseries"},
		},
		{
			name: "table default limit, lenient filters sorted and deduplicated",
			in: `{"queryType":"stats","metric":"Incidents","groupBy":"country","format":"table",
			      "filters":{"probe":["12","3",12],"asn":"64500","country":["cz","sk","CZ"],"trap":"minipot_telnet","ip":"::ffff:192.0.2.1"}}`,
			want: Query{QueryType: "stats", Metric: "incidents", GroupBy: Grouping{"country"}, Format: "table", Limit: 15,
				Filters: Filters{Probe: []int64{3, 12}, ASN: []int64{64500}, Country: []string{"CZ", "SK"}, Trap: []string{"minipot_telnet"}, IP: []string{"192.0.2.1"}}},
		},
		{
			name: "map defaults to country and all rows",
			in:   `{"metric":"attackers","format":"map","period":"1y"}`,
			want: Query{QueryType: "stats", Metric: "attackers", GroupBy: Grouping{"country"}, Format: "map", Period: "1y"},
		},
		{
			name: "ports by port with port filter",
			in:   `{"metric":"scans","groupBy":"port","filters":{"port":["22","23"]}}`,
			want: Query{QueryType: "stats", Metric: "scans", GroupBy: Grouping{"port"}, Format: "timeseries", Limit: 7, Filters: Filters{Port: []int64{22, 23}}},
		},
		{
			name: "groupBy as a list of keys, in the order given",
			in:   `{"metric":"incidents","groupBy":["ASN"," trap","probe"],"format":"table"}`,
			want: Query{QueryType: "stats", Metric: "incidents", GroupBy: Grouping{"asn", "trap", "probe"}, Format: "table", Limit: 15},
		},
		{
			// Grafana interpolates a multi-value variable into a string so
			name: "groupBy as keys separated by commas, also inside a list",
			in:   `{"metric":"usages","groupBy":["country, asn","",""]}`,
			want: Query{QueryType: "stats", Metric: "usages", GroupBy: Grouping{"country", "asn"}, Format: "timeseries", Limit: 7},
		},
		{
			name: "an empty list of keys overrides the preset",
			in:   `{"preset":"top_traps_by_incidents_graph","groupBy":[]}`,
			want: Query{QueryType: "stats", Preset: "top_traps_by_incidents_graph", Metric: "incidents", Format: "timeseries"},
		},
		{
			name: "prefix filter is masked",
			in:   `{"metric":"incidents","filters":{"ip":"198.51.100.77/24"}}`,
			want: Query{QueryType: "stats", Metric: "incidents", Format: "timeseries", Filters: Filters{IP: []string{"198.51.100.0/24"}}},
		},
		{
			name: "ip list: canonical, sorted, deduplicated, prefixes inside others dropped, empty entries dropped",
			in: `{"metric":"incidents","filters":{"ip":["2001:db8::/32"," 198.51.100.77/24","192.0.2.1/32","198.51.100.9","",
			      "::ffff:203.0.113.5","2001:db8:1::/48","192.0.2.1","::ffff:10.0.0.0/104"]}}`,
			want: Query{QueryType: "stats", Metric: "incidents", Format: "timeseries",
				Filters: Filters{IP: []string{"10.0.0.0/8", "192.0.2.1", "198.51.100.0/24", "203.0.113.5", "2001:db8::/32"}}},
		},
		{
			// a saved dashboard's "ip": "$ip" with the variable empty
			name: "an empty ip is no filter",
			in:   `{"metric":"incidents","filters":{"ip":""}}`,
			want: Query{QueryType: "stats", Metric: "incidents", Format: "timeseries"},
		},
		{
			name: "exclude with the filters' keys, normalised the same way",
			in: `{"metric":"incidents","groupBy":"country","format":"table","filters":{"country":["cz","us"]},
			      "exclude":{"asn":["64501",64500],"country":"cn","ip":["198.51.100.0/24","198.51.100.7"],"trap":"FWLOGS","probe":2,"action":["login"]}}`,
			want: Query{QueryType: "stats", Metric: "incidents", GroupBy: Grouping{"country"}, Format: "table", Limit: 15,
				Filters: Filters{Country: []string{"CZ", "US"}},
				Exclude: Filters{Probe: []int64{2}, ASN: []int64{64500, 64501}, Country: []string{"CN"}, Trap: []string{"fwlogs"},
					Action: []string{"login"}, IP: []string{"198.51.100.0/24"}}},
		},
		{
			name: "exclude of logins and ports",
			in:   `{"metric":"usages","groupBy":"password","exclude":{"password":"123456","username":"root"}}`,
			want: Query{QueryType: "stats", Metric: "usages", GroupBy: Grouping{"password"}, Format: "timeseries", Limit: 7,
				Exclude: Filters{Password: []string{"123456"}, Username: []string{"root"}}},
		},
		{
			name: "passwords and usernames: a list, sorted and deduplicated, case and spaces kept; an empty one is no filter",
			in:   `{"metric":"usages","filters":{"password":["b","Secret"," secret","b",""],"username":""},"exclude":{"username":["root","Admin"]}}`,
			want: Query{QueryType: "stats", Metric: "usages", Format: "timeseries",
				Filters: Filters{Password: []string{" secret", "Secret", "b"}}, Exclude: Filters{Username: []string{"Admin", "root"}}},
		},
		{
			name: "Grafana's own fields are ignored",
			in: `{"refId":"A","datasource":{"type":"sview-sentinel-datasource","uid":"sview"},"datasourceId":3,"intervalMs":60000,
			      "maxDataPoints":1234,"hide":false,"key":"Q-1","queryCachingTTL":0,"timeRange":{"from":"now-1h","to":"now"},
			      "resultAssertions":{"maxFrames":1},"queryType":"stats","metric":"incidents"}`,
			want: Query{QueryType: "stats", Metric: "incidents", Format: "timeseries"},
		},
		{
			// an editor keeps the fields of the other query types when the type changes
			name: "fields of other query types are dropped",
			in:   `{"queryType":"stats","metric":"scans","sha1":"5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8","prefix":"5baa6","minScore":2}`,
			want: Query{QueryType: "stats", Metric: "scans", Format: "timeseries"},
		},
		{
			name: "greylist keeps its fields only",
			in:   `{"queryType":"greylist","metric":"incidents","minScore":"2.5","limit":100,"filters":{"tag":["telnet","ftp"],"country":"cz"}}`,
			want: Query{QueryType: "greylist", Format: "table", MinScore: 2.5, Limit: 100, Filters: Filters{Tag: []string{"ftp", "telnet"}, Country: []string{"CZ"}}},
		},
		{
			name: "greylist size per day over a period",
			in:   `{"queryType":"greylist","format":"timeseries","period":"1m","filters":{"tag":["ssh"]}}`,
			want: Query{QueryType: "greylist", Format: "timeseries", Period: "1m", Filters: Filters{Tag: []string{"ssh"}}},
		},
		{
			name: "leak by sha1, lower-cased",
			in:   `{"queryType":"leak","sha1":"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8","period":"1h"}`,
			want: Query{QueryType: "leak", SHA1: "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"},
		},
		{
			// what old editors left beside a hash: nothing to refuse
			name: "leak with an empty password",
			in:   `{"queryType":"leak","password":"","prefix":"5BAA6"}`,
			want: Query{QueryType: "leak", Prefix: "5baa6"},
		},
		{
			name: "stats with an empty top-level password",
			in:   `{"metric":"usages","password":""}`,
			want: Query{QueryType: "stats", Metric: "usages", Format: "timeseries"},
		},
		{
			name: "status",
			in:   `{"queryType":"status","metric":"x"}`,
			want: Query{QueryType: "status"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := Parse([]byte(c.in))
			require.NoError(t, err)
			require.Equal(t, c.want, q)
			// The canonical JSON parses back to the same query.
			b, err := json.Marshal(q)
			require.NoError(t, err)
			again, err := Parse(b)
			require.NoError(t, err)
			require.Equal(t, q, again)
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		kind    error
		field   string
		mention string // a word the message must contain (an allowed value or the reason)
	}{
		{"not an object", `[1]`, ErrInvalidJSON, "", "JSON object"},
		{"broken json", `{"metric":`, ErrInvalidJSON, "", "JSON object"},
		{"unknown query type", `{"queryType":"graph"}`, ErrInvalidField, "queryType", "greylist"},
		{"unknown preset", `{"preset":"all_the_things"}`, ErrInvalidField, "preset", "all_incidents_graph"},
		{"preset on greylist", `{"queryType":"greylist","preset":"all_incidents_graph"}`, ErrUnsupported, "preset", "stats"},
		{"no metric", `{"groupBy":"country"}`, ErrMissingField, "metric", "usages"},
		{"unknown metric", `{"metric":"logins"}`, ErrInvalidField, "metric", "attackers"},
		{"unknown format", `{"metric":"scans","format":"pie"}`, ErrInvalidField, "format", "map"},
		{"unknown period", `{"metric":"scans","period":"2h"}`, ErrInvalidField, "period", "1w"},
		{"unknown groupBy", `{"metric":"scans","groupBy":"city"}`, ErrInvalidField, "groupBy", "combination"},
		{"groupBy not in table", `{"metric":"scans","groupBy":"password"}`, ErrUnsupported, "groupBy", "port"},
		{"action on passwords", `{"metric":"usages","groupBy":"action"}`, ErrUnsupported, "groupBy", "username"},
		{"groupBy not a list of texts", `{"metric":"scans","groupBy":{"a":1}}`, ErrInvalidJSON, "groupBy", "string"},
		{"unknown key in a grouping", `{"metric":"incidents","groupBy":"asn,city"}`, ErrInvalidField, "groupBy", `"city": unknown grouping (allowed: country, asn`},
		{"key of another table in a grouping", `{"metric":"scans","groupBy":["asn","trap"]}`, ErrUnsupported, "groupBy",
			`"trap": metric scans (table ports) has no such column (allowed: country, asn, ip, probe, port)`},
		{"duplicate key", `{"metric":"incidents","groupBy":["asn","trap","ASN"]}`, ErrInvalidField, "groupBy", `"asn": a key may be given once`},
		{"key inside combination", `{"metric":"incidents","groupBy":["combination","action"]}`, ErrInvalidField, "groupBy", "combination groups by trap and action already"},
		{"too many keys", `{"metric":"incidents","groupBy":"asn,trap,action,country"}`, ErrInvalidField, "groupBy", `"asn,trap,action,country": at most 3 keys`},
		{"map by two keys", `{"metric":"incidents","format":"map","groupBy":["country","asn"]}`, ErrUnsupported, "groupBy", "a map is grouped by country"},
		{"map by trap", `{"metric":"incidents","format":"map","groupBy":"trap"}`, ErrUnsupported, "groupBy", "country"},
		{"negative limit", `{"metric":"incidents","groupBy":"ip","limit":-3}`, ErrInvalidField, "limit", "between"},
		{"huge limit", `{"metric":"incidents","groupBy":"ip","limit":"99999999999999999"}`, ErrInvalidField, "limit", "between"},
		{"limit not a number", `{"metric":"incidents","limit":"seven"}`, ErrInvalidJSON, "limit", "integer"},
		{"filter not in table", `{"metric":"scans","filters":{"trap":["fwlogs"]}}`, ErrUnsupported, "filters.trap", "port"},
		{"too many usernames", `{"metric":"usages","exclude":{"username":` + distinctTexts(MaxTexts+1) + `}}`,
			ErrInvalidField, "exclude.username", "more than 1000 values"},
		{"a password too long", `{"metric":"usages","filters":{"password":["a","` + strings.Repeat("x", 1025) + `"]}}`,
			ErrInvalidField, "filters.password", "longer than 1024 bytes"},
		{"port filter on incidents", `{"metric":"incidents","filters":{"port":22}}`, ErrUnsupported, "filters.port", "action"},
		{"password filter on incidents", `{"metric":"attackers","filters":{"password":"123456"}}`, ErrUnsupported, "filters.password", "ip"},
		{"bad trap", `{"metric":"incidents","filters":{"trap":["minipot_ssh"]}}`, ErrInvalidField, "filters.trap", "minipot_telnet"},
		{"bad action", `{"metric":"incidents","filters":{"action":"hack"}}`, ErrInvalidField, "filters.action", "login"},
		{"bad country", `{"metric":"incidents","filters":{"country":["CZE"]}}`, ErrInvalidField, "filters.country", "two-letter"},
		{"bad probe", `{"metric":"incidents","filters":{"probe":["abc"]}}`, ErrInvalidJSON, "filters.probe", "integer"},
		{"zero probe", `{"metric":"incidents","filters":{"probe":[0]}}`, ErrInvalidField, "filters.probe", "positive"},
		{"bad port", `{"metric":"scans","filters":{"port":[70000]}}`, ErrInvalidField, "filters.port", "65535"},
		{"bad asn", `{"metric":"scans","filters":{"asn":[-1]}}`, ErrInvalidField, "filters.asn", "AS number"},
		{"bad ip", `{"metric":"incidents","filters":{"ip":"300.1.1.1"}}`, ErrInvalidField, "filters.ip", "IP address"},
		{"bad ip in a list", `{"metric":"incidents","filters":{"ip":["192.0.2.1","198.51.100.0/33"]}}`, ErrInvalidField, "filters.ip", `"198.51.100.0/33"`},
		{"ip with a zone", `{"metric":"incidents","filters":{"ip":"fe80::1%eth0"}}`, ErrInvalidField, "filters.ip", "fe80::1%eth0"},
		{"ip list of objects", `{"metric":"incidents","filters":{"ip":[{"a":1}]}}`, ErrInvalidJSON, "filters.ip", "string"},
		{"misspelt filter", `{"metric":"incidents","filters":{"counrty":["CZ"]}}`, ErrInvalidField, "filters",
			`filters: unknown key "counrty"; allowed: action, asn, command, country, feed, identifier, ip, password, port, probe, provider, tag, taxonomy, trap, type, username`},
		{"misspelt exclusion", `{"metric":"incidents","exclude":{"countries":["CZ"]}}`, ErrInvalidField, "exclude",
			`exclude: unknown key "countries"; allowed: action, asn, command, country, feed, identifier, ip, password, port, probe, provider, taxonomy, trap, type, username`},
		{"tag is not an exclusion", `{"queryType":"greylist","exclude":{"tag":["ssh"]}}`, ErrInvalidField, "exclude", `unknown key "tag"`},
		{"misspelt top-level key", `{"refId":"A","metric":"incidents","groupby":"country"}`, ErrInvalidField, "query",
			`query: unknown key "groupby"; allowed: adhoc, annotation, before, direction, empty, events, exclude, filters, format, groupBy, limit, measure, metric, minScore, password, period, prefix, preset, queryType, sha1`},
		{"filters in the wrong case", `{"metric":"incidents","Filters":{"country":["CZ"]}}`, ErrInvalidField, "query", `unknown key "Filters"`},
		{"unknown keys reported in order", `{"metric":"incidents","zeta":1,"alpha":2}`, ErrInvalidField, "query", `unknown key "alpha"`},
		{"exclude not an object", `{"metric":"incidents","exclude":"CZ"}`, ErrInvalidJSON, "", "exclude must be a JSON object"},
		{"exclusion not in table", `{"metric":"scans","exclude":{"trap":["fwlogs"]}}`, ErrUnsupported, "exclude.trap", "cannot exclude by trap"},
		{"bad exclusion", `{"metric":"incidents","exclude":{"country":["CZE"]}}`, ErrInvalidField, "exclude.country", "two-letter"},
		{"bad excluded ip", `{"metric":"incidents","exclude":{"ip":["192.0.2.0/24","nope"]}}`, ErrInvalidField, "exclude.ip", `"nope"`},
		{"greylist exclusion", `{"queryType":"greylist","exclude":{"country":["CZ"]}}`, ErrUnsupported, "exclude.country", "cannot exclude"},
		{"stats by a top-level password", `{"metric":"usages","password":"hunter2"}`, ErrInvalidField, "password", "filters.password"},
		{"filters not an object", `{"metric":"incidents","filters":[1]}`, ErrInvalidJSON, "", "filters"},
		{"ip is an object", `{"metric":"incidents","filters":{"ip":{"a":1}}}`, ErrInvalidJSON, "filters.ip", "string"},
		{"preset needs its filter", `{"preset":"my_all_incidents_graph"}`, ErrMissingField, "filters.probe", "my_all_incidents_graph"},
		{"selected attacker needs ip", `{"preset":"selected_attacker_incidents_graph","period":"1d"}`, ErrMissingField, "filters.ip", "ip"},
		{"greylist with probe filter", `{"queryType":"greylist","filters":{"probe":[1]}}`, ErrUnsupported, "filters.probe", "tag"},
		{"greylist negative score", `{"queryType":"greylist","minScore":-1}`, ErrInvalidField, "minScore", "at least 0"},
		{"greylist NaN score", `{"queryType":"greylist","minScore":"NaN"}`, ErrInvalidField, "minScore", "at least 0"},
		{"greylist bad tag", `{"queryType":"greylist","filters":{"tag":"Port Scan"}}`, ErrInvalidField, "filters.tag", "a-z"},
		{"greylist as a map", `{"queryType":"greylist","format":"map"}`, ErrInvalidField, "format", "timeseries"},
		{"greylist bad period", `{"queryType":"greylist","format":"timeseries","period":"2w"}`, ErrInvalidField, "period", "1m"},
		{"leak with nothing", `{"queryType":"leak"}`, ErrMissingField, "sha1|prefix", "exactly one"},
		{"leak with two", `{"queryType":"leak","sha1":"5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8","prefix":"5baa6"}`, ErrMissingField, "sha1|prefix", "exactly one"},
		{"leak by plain password", `{"queryType":"leak","password":"correct horse"}`, ErrInvalidField, "password", "send sha1 or prefix"},
		{"leak by password and sha1", `{"queryType":"leak","password":"x","sha1":"5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"}`, ErrInvalidField, "password", "hashes passwords in the browser"},
		{"leak short prefix", `{"queryType":"leak","prefix":"5ba"}`, ErrInvalidField, "prefix", "5 to 40"},
		{"leak bad sha1", `{"queryType":"leak","sha1":"xyz"}`, ErrInvalidField, "sha1", "40 hexadecimal"},
		{"annotations without a kind", `{"queryType":"annotations"}`, ErrMissingField, "annotation", "greylist, aggregation, silence"},
		{"annotations of an unknown kind", `{"queryType":"annotations","annotation":"greylsit"}`, ErrInvalidField, "annotation", "greylist"},
		{"silence by country", `{"queryType":"annotations","annotation":"silence","filters":{"country":["CZ"]}}`, ErrUnsupported, "filters.country", "silence annotations cannot be filtered by country"},
		{"aggregation by probe", `{"queryType":"annotations","annotation":"aggregation","filters":{"probe":[1]}}`, ErrUnsupported, "filters.probe", "aggregation"},
		{"greylist annotations by a bad prefix", `{"queryType":"annotations","annotation":"greylist","filters":{"ip":["192.0.2.0/33"]}}`, ErrInvalidField, "filters.ip", "192.0.2.0/33"},
		{"probes by asn", `{"queryType":"probes","filters":{"asn":[1]}}`, ErrUnsupported, "filters.asn", "probe"},
		{"probes excluding", `{"queryType":"probes","exclude":{"probe":[1]}}`, ErrUnsupported, "exclude.probe", "cannot exclude"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.in))
			require.Error(t, err)
			require.ErrorIs(t, err, c.kind)
			require.Contains(t, err.Error(), c.mention)
			var fe *FieldError
			if c.field != "" {
				require.True(t, errors.As(err, &fe), "want a *FieldError, got %T: %v", err, err)
				require.Equal(t, c.field, fe.Field)
				require.Contains(t, err.Error(), c.field)
			}
		})
	}
}

func TestNormalizeDoesNotTouchCaller(t *testing.T) {
	q := Query{Metric: "incidents", Filters: Filters{Country: []string{"sk", "cz"}}}
	n := q.Normalize()
	require.Equal(t, []string{"CZ", "SK"}, n.Filters.Country)
	require.Equal(t, []string{"sk", "cz"}, q.Filters.Country)
}

func TestCacheKey(t *testing.T) {
	parse := func(s string) Query {
		q, err := Parse([]byte(s))
		require.NoError(t, err)
		return q
	}
	r := period.Range{From: time.Date(2026, 3, 1, 10, 7, 13, 0, time.UTC), To: time.Date(2026, 3, 1, 12, 7, 0, 0, time.UTC), Interval: 5 * time.Minute}
	later := period.Range{From: r.From.Add(time.Minute), To: r.To.Add(time.Minute), Interval: r.Interval}
	preset := parse(`{"preset":"top_countries_by_incidents_list","period":"1w"}`)
	spelled := parse(`{"metric":"incidents","groupBy":"country","format":"table","limit":15,"period":"1w"}`)
	require.Equal(t, preset.CacheKey(r), spelled.CacheKey(period.Range{}), "a preset and its expansion share an answer; a period ignores the range")
	require.NotEqual(t, preset.CacheKey(r), parse(`{"preset":"top_countries_by_incidents_list","period":"1d"}`).CacheKey(r))

	a := parse(`{"metric":"incidents","filters":{"country":["SK","cz"]}}`)
	b := parse(`{"metric":"incidents","filters":{"country":["CZ","sk","SK"]}}`)
	require.Equal(t, a.CacheKey(r), b.CacheKey(r), "filter order and case do not matter")
	require.Equal(t, a.CacheKey(r), a.CacheKey(later), "the same aligned range")
	require.NotEqual(t, a.CacheKey(r), a.CacheKey(period.Range{From: r.From, To: r.To.Add(time.Hour), Interval: r.Interval}))
	require.NotEqual(t, a.CacheKey(r), parse(`{"metric":"attackers","filters":{"country":["CZ","SK"]}}`).CacheKey(r))

	ips := parse(`{"metric":"incidents","filters":{"ip":["198.51.100.0/24","192.0.2.1","198.51.100.7"]}}`)
	require.Equal(t, ips.CacheKey(r), parse(`{"metric":"incidents","filters":{"ip":["192.0.2.1/32","198.51.100.99/24","192.0.2.1"]}}`).CacheKey(r),
		"addresses and prefixes: order, duplicates, host bits and covered entries do not matter")
	require.Equal(t, parse(`{"metric":"incidents","filters":{"ip":"192.0.2.1"}}`).CacheKey(r),
		parse(`{"metric":"incidents","filters":{"ip":["192.0.2.1"]}}`).CacheKey(r), "the single string form is a list of one")
	excluded := parse(`{"metric":"incidents","exclude":{"country":["SK","cz"]}}`)
	require.Equal(t, excluded.CacheKey(r), parse(`{"metric":"incidents","exclude":{"country":["CZ","sk"]}}`).CacheKey(r))
	require.NotEqual(t, excluded.CacheKey(r), a.CacheKey(r), "excluding is not filtering")
	require.NotEqual(t, excluded.CacheKey(r), parse(`{"metric":"incidents"}`).CacheKey(r))
}

// TestGroupingJSON: the canonical groupBy is a list, [] when nothing is grouped (it overrides a
// preset's grouping), and every accepted spelling of the same keys has one cache key.
func TestGroupingJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"metric":"incidents"}`:                                 `"groupBy":[]`,
		`{"metric":"incidents","groupBy":"asn"}`:                 `"groupBy":["asn"]`,
		`{"metric":"incidents","groupBy":"asn, trap"}`:           `"groupBy":["asn","trap"]`,
		`{"preset":"top_traps_by_incidents_graph"}`:              `"groupBy":["trap"]`,
		`{"preset":"top_traps_by_incidents_graph","groupBy":""}`: `"groupBy":[]`,
	} {
		q, err := Parse([]byte(in))
		require.NoError(t, err, in)
		b, err := json.Marshal(q)
		require.NoError(t, err)
		require.Contains(t, string(b), want, in)
	}
	r := period.Range{}
	list, err := Parse([]byte(`{"metric":"incidents","groupBy":["asn","trap"],"period":"1d"}`))
	require.NoError(t, err)
	text, err := Parse([]byte(`{"metric":"incidents","groupBy":"ASN,trap","period":"1d"}`))
	require.NoError(t, err)
	swapped, err := Parse([]byte(`{"metric":"incidents","groupBy":"trap,asn","period":"1d"}`))
	require.NoError(t, err)
	require.Equal(t, list.CacheKey(r), text.CacheKey(r))
	require.NotEqual(t, list.CacheKey(r), swapped.CacheKey(r), "the order of the keys orders the labels and columns")
}

// TestPlainPasswordNotEchoed: a refused password does not appear in the error, which reaches
// panels and logs.
func TestPlainPasswordNotEchoed(t *testing.T) {
	_, err := Parse([]byte(`{"queryType":"leak","password":"correct horse battery"}`))
	require.Error(t, err)
	require.NotContains(t, err.Error(), "correct horse")
}

// distinctTexts is a JSON list of n distinct strings.
func distinctTexts(n int) string {
	v := make([]string, n)
	for i := range v {
		v[i] = strconv.Itoa(i)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
