package query

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/period"
)

func mustParseQuery(t *testing.T, s string) Query {
	t.Helper()
	q, err := Parse([]byte(s))
	require.NoError(t, err)
	return q
}

func TestScopeApply(t *testing.T) {
	operator := Scope{ASNs: []int64{64500}, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
	owner := Scope{Probes: []int64{3}}
	public := Scope{Public: true, Probes: []int64{3}}
	tests := []struct {
		name, query string
		scope       Scope
		wantErr     bool
		want        func(t *testing.T, q Query)
	}{
		{"all sees another probe", `{"metric":"incidents","filters":{"probe":[4]}}`, Scope{All: true}, false,
			func(t *testing.T, q Query) { require.Nil(t, q.Restrict); require.Equal(t, []int64{4}, q.Filters.Probe) }},
		{"owner asks for another probe", `{"metric":"incidents","filters":{"probe":[3,4]}}`, owner, true, nil},
		{"public asks for another probe", `{"metric":"incidents","filters":{"probe":[4]}}`, public, true, nil},
		// the total less probe 4 is probe 4's data by difference
		{"public excludes another probe", `{"metric":"incidents","exclude":{"probe":[4]}}`, public, true, nil},
		{"operator excludes a probe", `{"metric":"incidents","exclude":{"probe":[3]}}`, operator, true, nil},
		{"owner excludes its own probe", `{"metric":"incidents","groupBy":"probe","exclude":{"probe":[3]}}`, owner, false,
			func(t *testing.T, q Query) { require.Equal(t, []int64{3}, q.Exclude.Probe) }},
		{"all excludes any probe", `{"metric":"incidents","exclude":{"probe":[4]}}`, Scope{All: true}, false,
			func(t *testing.T, q Query) { require.Nil(t, q.Restrict) }},
		{"public excludes a country", `{"metric":"incidents","exclude":{"country":["CZ"]}}`, public, false,
			func(t *testing.T, q Query) { require.Equal(t, []string{"CZ"}, q.Exclude.Country) }},
		{"public groups by probe: its own only", `{"metric":"incidents","groupBy":"probe"}`, public, false,
			func(t *testing.T, q Query) { require.Equal(t, []int64{3}, q.Filters.Probe); require.Nil(t, q.Restrict) }},
		{"operator groups by probe", `{"metric":"incidents","groupBy":"probe"}`, operator, true, nil},
		{"public groups by asn and probe: its own probes only", `{"metric":"incidents","groupBy":["asn","probe"]}`, public, false,
			func(t *testing.T, q Query) { require.Equal(t, []int64{3}, q.Filters.Probe) }},
		{"operator groups by trap and probe", `{"metric":"incidents","groupBy":"trap,probe"}`, operator, true, nil},
		{"public totals are unrestricted", `{"preset":"all_incidents_graph","period":"1w"}`, public, false,
			func(t *testing.T, q Query) { require.Nil(t, q.Restrict) }},
		{"operator's totals read its rows", `{"preset":"all_incidents_graph","period":"1w"}`, operator, false,
			func(t *testing.T, q Query) {
				require.Equal(t, &Restriction{ASNs: operator.ASNs, Prefixes: operator.Prefixes}, q.Restrict)
			}},
		{"owner's my_* preset", `{"preset":"my_all_incidents_graph","period":"1w","filters":{"probe":[3]}}`, owner, false,
			func(t *testing.T, q Query) { require.Equal(t, &Restriction{Probes: []int64{3}}, q.Restrict) }},
		{"operator's greylist", `{"queryType":"greylist"}`, operator, false,
			func(t *testing.T, q Query) { require.Equal(t, []int64{64500}, q.Restrict.ASNs) }},
		{"owner's greylist is empty", `{"queryType":"greylist"}`, owner, false,
			func(t *testing.T, q Query) { require.Equal(t, &Restriction{}, q.Restrict) }},
		{"leak lookups are not scoped", `{"queryType":"leak","prefix":"abcde"}`, Scope{}, false,
			func(t *testing.T, q Query) { require.Nil(t, q.Restrict) }},
		{"owner's probes: its own", `{"queryType":"probes"}`, owner, false,
			func(t *testing.T, q Query) { require.Equal(t, []int64{3}, q.Filters.Probe) }},
		{"public asks for another probe's silences", `{"queryType":"annotations","annotation":"silence","filters":{"probe":[4]}}`, public, true, nil},
		{"operator has no probes to list", `{"queryType":"probes"}`, operator, true, nil},
		{"activity lists every probe", `{"queryType":"probes"}`, Scope{Public: true, Activity: true}, false,
			func(t *testing.T, q Query) { require.Empty(t, q.Filters.Probe) }},
		{"activity sees another probe's silences", `{"queryType":"annotations","annotation":"silence","filters":{"probe":[4]}}`, Scope{Activity: true}, false,
			func(t *testing.T, q Query) { require.Equal(t, []int64{4}, q.Filters.Probe) }},
		{"activity is no probe's attack data", `{"metric":"incidents","filters":{"probe":[4]}}`, Scope{Public: true, Activity: true}, true, nil},
		{"all lists every probe", `{"queryType":"probes"}`, Scope{All: true}, false,
			func(t *testing.T, q Query) { require.Empty(t, q.Filters.Probe) }},
		{"operator's greylist annotations read its space", `{"queryType":"annotations","annotation":"greylist"}`, operator, false,
			func(t *testing.T, q Query) { require.Equal(t, operator.Prefixes, q.Restrict.Prefixes) }},
		{"aggregation annotations are not scoped", `{"queryType":"annotations","annotation":"aggregation"}`, Scope{}, false,
			func(t *testing.T, q Query) {
				require.Nil(t, q.Restrict)
				require.Equal(t, DefaultAnnotationLimit, q.Limit)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := tt.scope.Apply(mustParseQuery(t, tt.query))
			if tt.wantErr {
				require.ErrorIs(t, err, ErrForbidden)
				return
			}
			require.NoError(t, err)
			tt.want(t, q)
		})
	}
}

// The cache key of a scoped query differs per scope, so no answer crosses scopes; scopes
// with the same restriction share it.
func TestScopeCacheKey(t *testing.T) {
	q := mustParseQuery(t, `{"preset":"all_incidents_graph","period":"1w"}`)
	key := func(s Scope) string {
		sq, err := s.Apply(q)
		require.NoError(t, err)
		return sq.CacheKey(period.Range{})
	}
	a, b := Scope{ASNs: []int64{64500}}, Scope{ASNs: []int64{64501}}
	require.NotEqual(t, key(a), key(b))
	require.NotEqual(t, key(a), key(Scope{All: true}))
	require.NotEqual(t, key(Scope{}), key(Scope{All: true}), "an empty scope is not everything")
	require.Equal(t, key(Scope{All: true}), key(Scope{Public: true}), "totals are the same answer for both")
	require.Equal(t, key(a), key(a.Union(Scope{ASNs: []int64{64500}})))
}

func TestScopeUnion(t *testing.T) {
	s := Scope{Probes: []int64{4, 1}}.Union(Scope{Public: true, Probes: []int64{1},
		Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.7/24"), netip.MustParsePrefix("192.0.2.0/24")}})
	require.Equal(t, Scope{Public: true, Probes: []int64{1, 4}, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}, s)
}
