package query

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseRawEvents(t *testing.T) {
	cases := []struct {
		name, in string
		want     Query
	}{
		{
			name: "defaults: a page of 100, no before",
			in:   `{"queryType":"events","events":"Incidents"}`,
			want: Query{QueryType: "events", Limit: 100, RawEvents: RawEvents{Events: "incidents"}},
		},
		{
			name: "logins filtered by address and password, before in RFC 3339 with an offset",
			in: `{"queryType":"events","events":"logins","limit":"20","before":"2026-05-01T14:00:00.123456+02:00",
			      "filters":{"ip":"192.0.2.7","password":"123456"},"exclude":{"country":["cn"]}}`,
			want: Query{QueryType: "events", Limit: 20, Filters: Filters{IP: []string{"192.0.2.7"}, Password: []string{"123456"}},
				Exclude: Filters{Country: []string{"CN"}}, RawEvents: RawEvents{Events: "logins", Before: "2026-05-01T12:00:00.123456Z"}},
		},
		{
			name: "scans by port, before in epoch milliseconds (a number)",
			in:   `{"queryType":"events","events":"scans","before":1777636800000,"filters":{"port":"22"}}`,
			want: Query{QueryType: "events", Limit: 100, Filters: Filters{Port: []int64{22}}, RawEvents: RawEvents{Events: "scans", Before: "2026-05-01T12:00:00Z"}},
		},
		{
			name: "a port as the port column shows it (protocol/port), from a data link",
			in:   `{"queryType":"events","events":"scans","filters":{"port":"TCP/22"},"exclude":{"port":["udp/53", 80]}}`,
			want: Query{QueryType: "events", Limit: 100, Filters: Filters{Port: []int64{22}}, Exclude: Filters{Port: []int64{53, 80}}, RawEvents: RawEvents{Events: "scans"}},
		},
		{
			name: "the fields of other types are dropped",
			in:   `{"queryType":"events","events":"incidents","metric":"usages","groupBy":"asn","format":"table","period":"1d","annotation":"silence"}`,
			want: Query{QueryType: "events", Limit: 100, RawEvents: RawEvents{Events: "incidents"}},
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
	q, err := Parse([]byte(`{"queryType":"events","events":"scans","before":"1777636800000"}`))
	require.NoError(t, err)
	before, ok := q.BeforeTime()
	require.True(t, ok)
	require.Equal(t, time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), before, "epoch milliseconds as text, as Grafana interpolates them")
}

func TestParseRawEventsErrors(t *testing.T) {
	cases := []struct {
		in, err string
	}{
		{`{"queryType":"events"}`, "missing field events: an events query reads one of incidents, logins, scans"},
		{`{"queryType":"events","events":"passwords"}`, `invalid field events "passwords": unknown kind of events (allowed: incidents, logins, scans, feeds, commands)`},
		{`{"queryType":"events","events":"incidents","limit":5001}`, `invalid field limit "5001": must be between 1 and 5000 (0 or absent for 100)`},
		{`{"queryType":"events","events":"incidents","limit":-1}`, `invalid field limit "-1"`},
		{`{"queryType":"events","events":"incidents","before":"yesterday"}`, `invalid field before "yesterday": a time in RFC 3339 (2026-05-01T12:00:00Z) or epoch milliseconds`},
		{`{"queryType":"events","events":"incidents","before":"2026-05-01 12:00"}`, `invalid field before "2026-05-01 12:00"`},
		{`{"queryType":"events","events":"scans","filters":{"password":"x"}}`, `unsupported combination filters.password: scans events (table ports) cannot be filtered by password (allowed: probe, asn, country, ip, port)`},
		{`{"queryType":"events","events":"logins","exclude":{"action":["login"]}}`, `unsupported combination exclude.action: logins events (table passwords) cannot exclude by action (allowed: probe, asn, country, trap, ip, password, username)`},
		{`{"queryType":"events","events":"incidents","filters":{"tag":["tor"]}}`, `unsupported combination filters.tag`},
		{`{"queryType":"events","events":"incidents","filters":{"adress":"192.0.2.1"}}`, `filters: unknown key "adress"; allowed:`},
		{`{"queryType":"events","events":"incidents","filters":{"ip":"192.0.2.300"}}`, `invalid field filters.ip "192.0.2.300"`},
		{`{"queryType":"events","events":"incidents","befor":"2026-05-01T12:00:00Z"}`, `query: unknown key "befor"`},
		{`{"queryType":"events","events":["incidents"]}`, `invalid query JSON events`},
		{`{"queryType":"events","events":"scans","filters":{"port":"SCTP/22"}}`, `invalid query JSON filters.port: "SCTP/22" is not an integer`},
		{`{"queryType":"events","events":"scans","filters":{"port":"TCP/ssh"}}`, `invalid query JSON filters.port: "ssh" is not an integer`},
		{`{"queryType":"event","events":"incidents"}`, `invalid field queryType "event": unknown query type (allowed: stats, greylist, leak, status, trend, annotations, probes, events`},
		{`{"queryType":"events","preset":"top_countries_by_incidents_list"}`, `presets are stats queries, not events`},
		{`{"queryType":"events","events":"logins","password":"hunter2"}`, `invalid field password: an events query is narrowed to a password by filters.password`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.in))
		require.ErrorContains(t, err, c.err, c.in)
	}
}

func TestRawEventsFieldsLeaveOtherTypes(t *testing.T) {
	q, err := Parse([]byte(`{"queryType":"stats","metric":"incidents","events":"logins","before":"2026-05-01T12:00:00Z"}`))
	require.NoError(t, err)
	require.Equal(t, RawEvents{}, q.RawEvents, "a stats query drops the events fields, as an editor switching types keeps them")
}

// TestRawEventsScope: raw events follow the stats rules (a probe filter needs the probe, outside
// All and Public the rows are restricted) and name only the caller's own probes unless All.
func TestRawEventsScope(t *testing.T) {
	q, err := Parse([]byte(`{"queryType":"events","events":"incidents"}`))
	require.NoError(t, err)

	all, err := Scope{All: true}.Apply(q)
	require.NoError(t, err)
	require.Nil(t, all.ProbeLabels, "All sees every probe's serial")
	require.Nil(t, all.Restrict)
	public, err := Scope{Public: true}.Apply(q)
	require.NoError(t, err)
	require.NotNil(t, public.ProbeLabels)
	rescoped, err := Scope{All: true}.Apply(public)
	require.NoError(t, err)
	require.Nil(t, rescoped.ProbeLabels, "Apply starts from the query, not from a scope applied before")

	public, err = Scope{Public: true, Probes: []int64{3}}.Apply(q)
	require.NoError(t, err)
	require.Equal(t, &[]int64{3}, public.ProbeLabels, "public callers see their own probes' serials only")
	require.Nil(t, public.Restrict, "public callers see every row")

	anonymous, err := Scope{Public: true}.Apply(q)
	require.NoError(t, err)
	require.NotNil(t, anonymous.ProbeLabels)
	require.Empty(t, *anonymous.ProbeLabels, "no probe named to a caller without probes")

	operator, err := Scope{ASNs: []int64{64500}}.Apply(q)
	require.NoError(t, err)
	require.Equal(t, &Restriction{ASNs: []int64{64500}}, operator.Restrict)
	require.Empty(t, *operator.ProbeLabels)

	filtered, err := Parse([]byte(`{"queryType":"events","events":"logins","filters":{"probe":[7]}}`))
	require.NoError(t, err)
	_, err = Scope{Public: true, Probes: []int64{3}}.Apply(filtered)
	require.ErrorIs(t, err, ErrForbidden, "a probe filter is a probe's own data")
	excluded, err := Parse([]byte(`{"queryType":"events","events":"logins","exclude":{"probe":[7]}}`))
	require.NoError(t, err)
	_, err = Scope{Public: true}.Apply(excluded)
	require.ErrorIs(t, err, ErrForbidden)
	own, err := Scope{Public: true, Probes: []int64{7}}.Apply(filtered)
	require.NoError(t, err)
	require.Equal(t, []int64{7}, own.Filters.Probe)
}
