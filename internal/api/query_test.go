package api

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseQueryRequest(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	q := `{"queryType":"stats","metric":"incidents"}`
	tests := []struct {
		name, body, params string
		refID              string
		from, to           time.Time
		interval           time.Duration
		err                string
	}{
		{name: "bare query, Grafana's default range", body: q, refID: "A", from: now.Add(-6 * time.Hour), to: now, interval: 6 * time.Hour / 1000},
		{name: "bare query, relative range in the URL", body: q, params: "from=now-7d&to=now-1h", refID: "A",
			from: now.Add(-7 * 24 * time.Hour), to: now.Add(-time.Hour), interval: (7*24 - 1) * time.Hour / 1000},
		{name: "envelope with epoch milliseconds as strings", body: `{"queries":[{"refId":"X","queryType":"stats","intervalMs":60000}],"from":"1764892800000","to":"1764979200000"}`,
			refID: "X", from: time.UnixMilli(1764892800000).UTC(), to: time.UnixMilli(1764979200000).UTC(), interval: time.Minute},
		{name: "envelope with numbers and maxDataPoints", body: `{"queries":[{"queryType":"stats","maxDataPoints":24}],"from":1764892800000,"to":1764979200000}`,
			refID: "A", from: time.UnixMilli(1764892800000).UTC(), to: time.UnixMilli(1764979200000).UTC(), interval: time.Hour},
		{name: "RFC 3339", body: q, params: "from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z", refID: "A",
			from: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), to: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), interval: 24 * time.Hour / 1000},
		{name: "two queries", body: `{"queries":[{},{}]}`, err: "queries holds 2 queries; POST /api/query answers exactly one"},
		{name: "no query", body: `{"queries":[]}`, err: "queries holds 0 queries"},
		{name: "bad from", body: q, params: "from=yesterday", err: `from "yesterday": want epoch milliseconds, RFC 3339, now or now-<n><s|m|h|d|w>`},
		{name: "bad unit", body: q, params: "from=now-3y", err: `from "now-3y"`},
		{name: "reversed range", body: q, params: "from=now&to=now-1h", err: "is not before to"},
		{name: "not an object", body: `[1]`, err: "want a JSON object"},
		{name: "refId of the wrong type", body: `{"refId":7}`, err: "refId, intervalMs, maxDataPoints"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params, err := url.ParseQuery(tt.params)
			require.NoError(t, err)
			req, err := parseQueryRequest([]byte(tt.body), params, now)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.refID, req.refID)
			require.Equal(t, tt.from, req.rng.From)
			require.Equal(t, tt.to, req.rng.To)
			require.Equal(t, tt.interval, req.rng.Interval)
		})
	}
}

// TestQueryEndpoint: answers in Grafana's shape with the refId given, errors as Grafana gives
// them (status and message in the result, and as the HTTP status), and the public scope.
func TestQueryEndpoint(t *testing.T) {
	f := newFixture(t, Limits{Rate: -1})
	post := func(body string, hdr ...string) (int, map[string]any) {
		t.Helper()
		resp, b := f.do(t, http.MethodPost, "/api/query", "application/json", body, hdr...)
		var out map[string]any
		require.NoError(t, json.Unmarshal([]byte(b), &out), b)
		return resp.StatusCode, out
	}
	result := func(out map[string]any, refID string) map[string]any {
		t.Helper()
		r, ok := out["results"].(map[string]any)[refID].(map[string]any)
		require.True(t, ok, "no result %s in %v", refID, out)
		return r
	}

	code, out := post(`{"refId":"Q","queryType":"stats","metric":"incidents","groupBy":"country","format":"table"}`)
	require.Equal(t, http.StatusOK, code)
	r := result(out, "Q")
	require.EqualValues(t, 200, r["status"])
	frame := r["frames"].([]any)[0].(map[string]any)
	values := frame["data"].(map[string]any)["values"].([]any)
	require.Equal(t, []any{"minipot_telnet"}, values[0], "the engine's table, column by column")
	require.Equal(t, []any{9.0}, values[2])

	code, out = post(`{"queryType":"greylist","filters":{"tag":["telnet"]}}`)
	require.Equal(t, http.StatusOK, code)
	values = result(out, "A")["frames"].([]any)[0].(map[string]any)["data"].(map[string]any)["values"].([]any)
	require.Equal(t, []any{"192.0.2.1"}, values[0])

	for _, tt := range []struct {
		body   string
		status int
		want   string
		refID  string // of the result: "A" when empty
	}{
		{`{"queryType":"stats","metric":"incidents","filters":{"counrty":["CZ"]}}`, 400, `unknown key "counrty"; allowed: `, ""},
		{`{"queryType":"stats","metric":"incidnets"}`, 400, `metric`, ""},
		{`{"queryType":"stats","metric":"incidents","groupBy":"probe"}`, 403, "grouping by probe shows your own probes only", ""},
		{`{"queryType":"stats","metric":"incidents","filters":{"probe":[2]}}`, 403, "probe 2 is not among your probes", ""},
		{`{"queries":[{"queryType":"stats"},{"queryType":"stats"}]}`, 400, "exactly one", ""},
		{`{"queryType":"stats","metric":"incidents"}`, 400, `from "soon"`, ""},
		{`{"refId":"R","queryType":"stats","metric":"incidents"}`, 400, `from "soon"`, "R"},
		{`{"queries":[{"refId":"S","queryType":"stats","metric":"incidents"}],"from":"soon"}`, 400, `from "soon"`, "S"},
	} {
		path := "/api/query"
		if strings.Contains(tt.want, "soon") {
			path += "?from=soon"
		}
		resp, b := f.do(t, http.MethodPost, path, "application/json", tt.body)
		require.Equal(t, tt.status, resp.StatusCode, "%s: %s", tt.body, b)
		var out map[string]any
		require.NoError(t, json.Unmarshal([]byte(b), &out), b)
		r := result(out, cmp.Or(tt.refID, "A"))
		require.Len(t, out["results"], 1)
		require.EqualValues(t, tt.status, r["status"])
		require.Equal(t, "downstream", r["errorSource"])
		require.Contains(t, r["error"], tt.want, tt.body)
	}

	// A probe's own data, with its device token.
	code, out = post(`{"queryType":"stats","metric":"incidents","filters":{"probe":[1]},"format":"table","groupBy":"country"}`, DeviceTokenHeader, token1)
	require.Equal(t, http.StatusOK, code, "%v", out)
}

// TestQueryEndpointEvents: raw events answer as a logs frame; the public API names a probe only
// to its owner.
func TestQueryEndpointEvents(t *testing.T) {
	f := newFixture(t, Limits{Rate: -1})
	body := func(hdr ...string) string {
		t.Helper()
		resp, b := f.do(t, http.MethodPost, "/api/query?from=2026-11-22T00:00:00Z&to=2026-11-23T00:00:00Z", "application/json",
			`{"queryType":"events","events":"logins","filters":{"ip":"192.0.2.1"}}`, hdr...)
		require.Equal(t, http.StatusOK, resp.StatusCode, b)
		var out struct {
			Results map[string]struct {
				Frames []struct {
					Schema struct {
						Meta struct {
							Type   string         `json:"type"`
							Custom map[string]any `json:"custom"`
						} `json:"meta"`
					} `json:"schema"`
					Data struct {
						Values [][]any `json:"values"`
					} `json:"data"`
				} `json:"frames"`
			} `json:"results"`
		}
		require.NoError(t, json.Unmarshal([]byte(b), &out), b)
		frame := out.Results["A"].Frames[0]
		require.Equal(t, "log-lines", frame.Schema.Meta.Type)
		require.Equal(t, map[string]any{"more": false}, frame.Schema.Meta.Custom)
		require.Len(t, frame.Data.Values[1], 1)
		return frame.Data.Values[1][0].(string)
	}
	require.Equal(t, "root / 123456 from 192.0.2.1 (CZ, AS64500 EXAMPLE-NET) on minipot_telnet", body(), "no probe named to the public")
	require.Equal(t, "root / 123456 from 192.0.2.1 (CZ, AS64500 EXAMPLE-NET) on minipot_telnet", body(DeviceTokenHeader, token1), "nor to another probe's owner")
	require.Equal(t, "root / 123456 from 192.0.2.1 (CZ, AS64500 EXAMPLE-NET) on minipot_telnet, probe 0000000000000002", body(DeviceTokenHeader, token2))
}
