package plugin

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/query"
)

// testAccess is the Access of a jsonData holding only the scope settings in js.
func testAccess(t testing.TB, js string) Access {
	t.Helper()
	var j jsonData
	require.NoError(t, json.Unmarshal([]byte(js), &j))
	a, err := newAccess(j.Scopes, j.Teams, j.AlertScope)
	require.NoError(t, err)
	return a
}

func TestAccessRules(t *testing.T) {
	a := testAccess(t, `{
		"teams": {"noc": ["bob"]},
		"scopes": [
			{"role": "Editor", "public": true},
			{"team": "noc", "asns": [64500], "prefixes": ["198.51.100.0/24"]},
			{"login": "carol", "probes": [2]},
			{"email": "Dave@Example.org", "all": true}
		],
		"alertScope": {"asns": [64501]}
	}`)
	require.Equal(t, query.Scope{}, a.For(nil), "no rule matches a caller Grafana does not name")
	require.Equal(t, query.Scope{}, a.For(&backend.User{Login: "eve", Role: "Viewer"}))
	require.Equal(t, query.Scope{Public: true}, a.For(&backend.User{Login: "eve", Role: "Admin"}), "a role rule covers the roles above it")
	require.Equal(t, []int64{64500}, a.For(&backend.User{Login: "bob", Role: "Viewer"}).ASNs)
	require.Equal(t, query.Scope{Public: true, Probes: []int64{2}}, a.For(&backend.User{Login: "carol", Role: "Editor"}), "rules add up")
	require.True(t, a.For(&backend.User{Login: "dave", Email: "dave@example.org"}).All)
	require.Equal(t, query.Scope{ASNs: []int64{64501}}, a.alert)

	def := testAccess(t, `{}`)
	require.True(t, def.For(&backend.User{Role: "Admin"}).All)
	require.Equal(t, query.Scope{Public: true}, def.For(&backend.User{Role: "Editor"}))
	require.Equal(t, query.Scope{Public: true}, def.alert)

	for js, want := range map[string]string{
		`{"scopes": [{"all": true}]}`:                                   "match exactly one",
		`{"scopes": [{"login": "a", "role": "Admin"}]}`:                 "match exactly one",
		`{"scopes": [{"role": "Owner"}]}`:                               `role "Owner"`,
		`{"scopes": [{"team": "ghosts"}]}`:                              `team "ghosts" is not defined`,
		`{"scopes": [{"everyone": true, "prefixes": ["10.0.0.0/33"]}]}`: "prefix",
		`{"alertScope": {"probes": [0]}}`:                               "probe 0",
	} {
		var j jsonData
		require.NoError(t, json.Unmarshal([]byte(js), &j))
		_, err := newAccess(j.Scopes, j.Teams, j.AlertScope)
		require.ErrorIs(t, err, ErrInvalidScope, js)
		require.Contains(t, err.Error(), want, js)
	}
}

// TestScopesAtEveryEntryPoint: a network operator (AS64500) and a probe owner asking for what
// is not theirs get nothing or a 403 in QueryData, alert queries, variable lists and resource
// calls, and a warm cache never answers one scope with another's result.
func TestScopesAtEveryEntryPoint(t *testing.T) {
	t.Parallel()
	_, pool := newSeeded(t, nil)
	d := readerDatasource(t, pool, testAccess(t, `{"scopes": [
		{"role": "Admin", "all": true},
		{"login": "noc", "asns": [64500]},
		{"login": "owner", "public": true}
	]}`))
	ctx := context.Background()
	admin := &backend.User{Login: "admin", Role: "Admin"}
	noc := &backend.User{Login: "noc", Role: "Viewer"}
	owner := &backend.User{Login: "owner", Role: "Viewer"}

	run := func(u *backend.User, headers map[string]string, js string) backend.DataResponse {
		t.Helper()
		resp, err := d.QueryData(ctx, &backend.QueryDataRequest{PluginContext: backend.PluginContext{User: u}, Headers: headers,
			Queries: []backend.DataQuery{dataQuery("A", js)}})
		require.NoError(t, err)
		return resp.Responses["A"]
	}
	total := func(dr backend.DataResponse) int64 {
		t.Helper()
		require.NoError(t, dr.Error)
		var n int64
		for _, f := range dr.Frames {
			for i := range f.Rows() {
				n += f.Fields[1].At(i).(int64)
			}
		}
		return n
	}
	call := func(u *backend.User, method, path, body string) (int, string) {
		t.Helper()
		var s sender
		require.NoError(t, d.CallResource(ctx, &backend.CallResourceRequest{PluginContext: backend.PluginContext{User: u},
			Method: method, Path: strings.SplitN(path, "?", 2)[0], URL: path, Body: []byte(body)}, &s))
		return s.resp.Status, string(s.resp.Body)
	}

	// 21 incidents from AS64500 on probe 1, 12 from AS64501 on probe 2.
	incidents := `{"queryType":"stats","metric":"incidents"}`
	require.Equal(t, int64(33), total(run(admin, nil, incidents)))
	require.Equal(t, int64(21), total(run(noc, nil, incidents)), "the operator sees its own ASN")
	require.Equal(t, int64(33), total(run(admin, nil, incidents)), "the warm answer of one scope is not served to another")
	require.Equal(t, int64(21), total(run(noc, nil, incidents)))
	require.Zero(t, total(run(noc, nil, `{"queryType":"stats","metric":"incidents","filters":{"asn":[64501]}}`)),
		"another ASN gives nothing")

	for _, js := range []string{
		`{"queryType":"stats","metric":"incidents","groupBy":"probe"}`,
		`{"queryType":"stats","metric":"incidents","filters":{"probe":[2]}}`,
	} {
		for _, u := range []*backend.User{noc, owner} {
			dr := run(u, nil, js)
			require.Equal(t, backend.StatusForbidden, dr.Status, "%s: %s", u.Login, js)
		}
		dr := run(nil, map[string]string{"FromAlert": "true"}, js)
		require.Equal(t, backend.StatusForbidden, dr.Status, "alert rules run under the alert scope: %s", js)
	}

	status, body := call(noc, http.MethodGet, "variables/asns", "")
	require.Equal(t, 200, status)
	require.JSONEq(t, `[{"value":"64500","text":"AS64500 EXAMPLE-NET"}]`, body)
	status, body = call(noc, http.MethodGet, "variables/probes", "")
	require.Equal(t, 200, status)
	require.JSONEq(t, `[]`, body)
	status, body = call(admin, http.MethodGet, "variables/probes", "")
	require.Equal(t, 200, status)
	require.NotContains(t, body, "abab", "no token fragment in the list")
	status, body = call(noc, http.MethodGet, "greylist-latest.csv", "")
	require.Equal(t, 200, status)
	require.Contains(t, body, "192.0.2.1,")
	require.NotContains(t, body, "198.51.100.7", "an address of another ASN")

	// The owner claims probe 2 with its token and from then on sees it, and only it.
	status, body = call(owner, http.MethodPost, "claims", `{"deviceToken":"`+strings.Repeat("00", 32)+`"}`)
	require.Equal(t, 403, status, body)
	status, body = call(owner, http.MethodPost, "claims", `{"deviceToken":"`+strings.Repeat("cd", 32)+`"}`)
	require.Equal(t, 200, status, body)
	require.JSONEq(t, `{"id":2,"sn":"0000000000000002"}`, body)
	status, body = call(nil, http.MethodPost, "claims", `{"deviceToken":"`+strings.Repeat("cd", 32)+`"}`)
	require.Equal(t, 403, status, "a claim needs a signed-in user: %s", body)
	status, body = call(owner, http.MethodGet, "variables/probes", "")
	require.Equal(t, 200, status)
	require.JSONEq(t, `[{"value":"2","text":"0000000000000002 #2"}]`, body)
	dr := run(owner, nil, `{"queryType":"stats","metric":"incidents","groupBy":"probe"}`)
	require.Equal(t, int64(12), total(dr))
	require.Len(t, dr.Frames, 1, "one series: the claimed probe")
	require.Equal(t, backend.StatusForbidden, run(owner, nil, `{"queryType":"stats","metric":"incidents","filters":{"probe":[1]}}`).Status)
	status, _ = call(owner, http.MethodDelete, "claims/2", "")
	require.Equal(t, 204, status)
	require.Equal(t, backend.StatusForbidden, run(owner, nil, `{"queryType":"stats","metric":"incidents","filters":{"probe":[2]}}`).Status,
		"a dropped claim no longer counts")
}
