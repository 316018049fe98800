package plugin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/api"
	"github.com/sview-project/sview/internal/pluginharness"
)

// TestPublicQueryAnswersAsThePlugin sends the same queries to the plugin and to `sview
// serve`'s POST /api/query over one seeded database: the frames must be the same, in
// Grafana's /api/ds/query shape, and a misspelt key is a 400 naming it on both.
func TestPublicQueryAnswersAsThePlugin(t *testing.T) {
	t.Parallel()
	d, _ := newSeeded(t, nil)
	srv := httptest.NewServer(api.Public(api.Deps{DB: d.reads, Stats: d.stats, Answers: d.answers, Limits: api.Limits{Rate: -1}}))
	t.Cleanup(srv.Close)
	from, to := strconv.FormatInt(pluginharness.SeedFrom.UnixMilli(), 10), strconv.FormatInt(pluginharness.SeedTo.UnixMilli(), 10)
	post := func(body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/api/query", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var out map[string]any
		require.NoError(t, json.Unmarshal(b, &out), string(b))
		return resp.StatusCode, out
	}
	for _, q := range []string{
		`{"refId":"A","queryType":"stats","metric":"incidents","intervalMs":3600000}`,
		`{"refId":"B","queryType":"stats","metric":"incidents","groupBy":"country","format":"table","intervalMs":3600000}`,
		`{"refId":"C","queryType":"stats","metric":"usages","groupBy":"password","format":"table","filters":{"ip":["192.0.2.0/24"]},"intervalMs":3600000}`,
		`{"refId":"D","queryType":"greylist","filters":{"tag":["telnet"]}}`,
	} {
		refID := q[10:11]
		code, got := post(`{"queries":[` + q + `],"from":"` + from + `","to":"` + to + `"}`)
		require.Equal(t, http.StatusOK, code, "%s: %v", q, got)
		resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{dataQuery(refID, q)}})
		require.NoError(t, err)
		want, err := resp.MarshalJSON()
		require.NoError(t, err)
		var wantMap map[string]any
		require.NoError(t, json.Unmarshal(want, &wantMap))
		require.Equal(t, withoutComputedAt(wantMap), withoutComputedAt(got), q)
		frames := got["results"].(map[string]any)[refID].(map[string]any)["frames"].([]any)
		require.NotEmpty(t, frames, q)
	}

	code, got := post(`{"queryType":"stats","metric":"incidents","filters":{"counrty":["CZ"]}}`)
	require.Equal(t, http.StatusBadRequest, code)
	msg := got["results"].(map[string]any)["A"].(map[string]any)["error"].(string)
	require.Contains(t, msg, `unknown key "counrty"`)
	require.Contains(t, msg, "allowed: ")
}

// withoutComputedAt drops when each answer was computed and whether it came from the cache:
// the plugin computed it, the API found it cached.
func withoutComputedAt(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range t {
			if k != "computedAt" && k != "cache" {
				out[k] = withoutComputedAt(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = withoutComputedAt(e)
		}
		return out
	}
	return v
}
