package api

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/engine"
	"github.com/sview-project/sview/internal/pluginharness"
	"github.com/sview-project/sview/internal/stats"
	"github.com/sview-project/sview/internal/testenv"
)

// TestResourceShapesWithEngine runs /api/resource through the real engine over the seeded
// rows and checks the original JSON shapes and values.
func TestResourceShapesWithEngine(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t)
	require.NoError(t, pluginharness.Seed(t.Context(), pool))
	c, err := cache.New(cache.Options{Backend: mustMemory(t)})
	require.NoError(t, err)
	defer c.Close()
	now := func() time.Time { return pluginharness.SeedTo }
	eng := engine.New(pool, engine.Options{Now: now})
	srv := httptest.NewServer(Public(Deps{DB: pool, Stats: stats.New(stats.Config{DB: pool, Cache: c, Engine: eng}), Limits: Limits{Rate: -1}}))
	defer srv.Close()
	f := fixture{srv: srv}

	get := func(path string) map[string]any {
		resp, body := f.do(t, "GET", path, "", "")
		require.Equal(t, 200, resp.StatusCode, body)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &m))
		return m
	}
	list := get("/api/resource?name=top_incident_types_by_incidents_list&period=1d")
	require.Equal(t, "top_incident_types_by_incidents_list", list["resource_name"])
	require.Equal(t, []any{
		map[string]any{"source": "minipot_telnet", "action": "login", "count": 21.0},
		map[string]any{"source": "fwlogs", "action": "small_port_scan", "count": 12.0},
	}, list["data"])

	m := get("/api/resource?name=all_countries_by_attackers_list&period=1d")
	require.Equal(t, map[string]any{"CZ": 1.0, "DE": 1.0}, m["data"])

	graph := get("/api/resource?name=all_incidents_graph&period=1d")["data"].([]any)
	require.Len(t, graph, 48, "1d has 48 half-hour points")
	sum := 0.0
	for _, p := range graph {
		sum += p.(map[string]any)["count"].(float64)
	}
	require.Equal(t, 33.0, sum)
	require.Equal(t, "2026-01-10 06:00", graph[47].(map[string]any)["bucket"], "points are labelled with the bucket end")

	multi := get("/api/resource?name=top_countries_by_incidents_graph&period=1d")["data"].(map[string]any)
	require.Equal(t, []any{"CZ", "DE"}, multi["labels"])
	require.Equal(t, []any{0.0, 1.0}, multi["ykeys"])
	require.Len(t, multi["data"], 48)

	ip := get("/api/resource?name=selected_attacker_incidents_graph&period=1d&ip=198.51.100.7")["data"].([]any)
	sum = 0
	for _, p := range ip {
		sum += p.(map[string]any)["count"].(float64)
	}
	require.Equal(t, 12.0, sum)

	resp, body := f.do(t, "GET", "/api/resource?name=selected_attacker_incidents_graph&period=1d", "", "")
	require.Equal(t, 400, resp.StatusCode)
	require.Contains(t, body, `"error":`)
	require.Contains(t, body, "ip")
}
