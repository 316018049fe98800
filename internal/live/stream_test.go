package live

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/query"
)

func liveQuery(t *testing.T, js string) query.Query {
	t.Helper()
	q, err := query.Parse([]byte(js))
	require.NoError(t, err)
	return q
}

func event(ip, country string, asn, probe int64, trap, action string) Event {
	return Event{Time: time.Unix(1e9, 0), IP: netip.MustParseAddr(ip), Country: country, ASN: asn, Probe: probe,
		Serial: "sn", Trap: trap, Action: action, Count: 1}
}

func TestFilterAppliesFiltersAndExclusions(t *testing.T) {
	all := query.Scope{All: true}
	cases := []struct {
		query string
		match []bool // for the events below
	}{
		{`{"queryType":"live"}`, []bool{true, true, true, true}},
		{`{"queryType":"live","filters":{"country":["cz"]}}`, []bool{true, false, false, false}},
		{`{"queryType":"live","filters":{"ip":["192.0.2.0/24"],"trap":["minipot_telnet"]}}`, []bool{true, true, false, false}},
		{`{"queryType":"live","filters":{"asn":[64500],"action":["connect"]}}`, []bool{false, true, false, false}},
		{`{"queryType":"live","filters":{"probe":[2]}}`, []bool{false, false, true, true}},
		// a row without a country is never excluded by a country
		{`{"queryType":"live","exclude":{"country":["CZ","DE"]}}`, []bool{false, false, true, true}},
		{`{"queryType":"live","exclude":{"ip":["2001:db8::/32"]}}`, []bool{true, true, true, false}},
		{`{"queryType":"live","adhoc":[{"key":"country","operator":"=","value":"DE"}]}`, []bool{false, true, false, false}},
	}
	events := []Event{
		event("192.0.2.1", "CZ", 64500, 1, "minipot_telnet", "login"),
		event("192.0.2.2", "DE", 64500, 1, "minipot_telnet", "connect"),
		event("198.51.100.1", "", 0, 2, "minipot_http", "connect"),
		event("2001:db8::1", "FR", 64501, 2, "haas", "login"),
	}
	for _, c := range cases {
		f := NewFilter(liveQuery(t, c.query), all)
		for i, e := range events {
			require.Equal(t, c.match[i], f.Match(e), "%s, event %d", c.query, i)
		}
	}
}

func TestFilterKeepsToTheScope(t *testing.T) {
	q := liveQuery(t, `{"queryType":"live"}`)
	events := []Event{
		event("192.0.2.1", "CZ", 64500, 1, "minipot_telnet", "login"),
		event("198.51.100.1", "DE", 64501, 2, "minipot_telnet", "login"),
		event("203.0.113.9", "FR", 64502, 3, "minipot_telnet", "login"),
	}
	cases := []struct {
		name   string
		scope  query.Scope
		match  []bool
		serial []bool
	}{
		{"all", query.Scope{All: true}, []bool{true, true, true}, []bool{true, true, true}},
		{"public with probe 2", query.Scope{Public: true, Probes: []int64{2}}, []bool{true, true, true}, []bool{false, true, false}},
		{"an operator", query.Scope{ASNs: []int64{64500}, Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}},
			[]bool{true, false, true}, []bool{false, false, false}},
		{"a probe owner", query.Scope{Probes: []int64{2}}, []bool{false, true, false}, []bool{false, true, false}},
		{"activity only", query.Scope{Activity: true}, []bool{false, false, false}, []bool{false, false, false}},
	}
	for _, c := range cases {
		scoped, err := c.scope.Apply(q)
		require.NoError(t, err, c.name)
		f := NewFilter(scoped, c.scope)
		for i, e := range events {
			require.Equal(t, c.match[i], f.Match(e), "%s, event %d", c.name, i)
			shown := f.Shown(e)
			require.Equal(t, c.serial[i], shown.Serial != "", "%s, serial of event %d", c.name, i)
			require.Equal(t, c.serial[i], shown.Probe != 0, "%s, probe id of event %d", c.name, i)
			require.Equal(t, e.IP, shown.IP)
		}
	}
	// A probe filter needs the probe among the caller's.
	_, err := query.Scope{Public: true}.Apply(liveQuery(t, `{"queryType":"live","filters":{"probe":[3]}}`))
	require.ErrorIs(t, err, query.ErrForbidden)
}

func TestLiveQueryValidation(t *testing.T) {
	for js, field := range map[string]string{
		`{"queryType":"live","filters":{"port":[22]}}`:       "filters.port",
		`{"queryType":"live","filters":{"password":"x"}}`:    "filters.password",
		`{"queryType":"live","filters":{"country":["CZE"]}}`: "filters.country",
		`{"queryType":"live","exclude":{"trap":["nosuch"]}}`: "exclude.trap",
		`{"queryType":"live","format":"map"}`:                "format",
	} {
		_, err := query.Parse([]byte(js))
		var fe *query.FieldError
		require.ErrorAs(t, err, &fe, js)
		require.Equal(t, field, fe.Field, js)
	}
}

func TestLimiterKeepsTheRateAndCountsTheRest(t *testing.T) {
	l := NewLimiter(5)
	now := time.Unix(1e9, 0)
	burst := make([]Event, 20)
	for i := range burst {
		burst[i] = Event{Count: int64(i)}
	}
	kept := l.Take(now, burst)
	require.Len(t, kept, 5)
	require.Equal(t, []int64{0, 1, 2, 3, 4}, []int64{kept[0].Count, kept[1].Count, kept[2].Count, kept[3].Count, kept[4].Count})
	require.EqualValues(t, 15, l.Dropped())
	require.Len(t, l.Take(now.Add(400*time.Millisecond), burst), 2, "two tokens back after 0.4 s")
	require.EqualValues(t, 33, l.Dropped())
	l.Drop(7)
	require.EqualValues(t, 40, l.Dropped())
	require.Len(t, l.Take(now.Add(10*time.Second), burst[:3]), 3)
	require.EqualValues(t, 40, l.Dropped())
}
