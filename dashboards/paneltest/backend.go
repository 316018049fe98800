package paneltest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/plugin/pkg/plugin"
	"github.com/sview-project/sview/provisioning"
)

// Backend is the plugin's datasource, built from provisioning/datasources the way Grafana
// builds it, pointing at a test database.
type Backend struct {
	handler   backend.QueryDataHandler
	resources backend.CallResourceHandler
	settings  backend.DataSourceInstanceSettings
}

// ProvisionedEnv is the environment a Grafana server would need for the provisioned
// datasource to reach the database at databaseURL. Redis is left out: the plugin then keeps
// its cache in process, so parallel test packages never share cached results.
func ProvisionedEnv(databaseURL string) (map[string]string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	pw, _ := u.User.Password()
	sslmode := u.Query().Get("sslmode")
	if sslmode == "" {
		sslmode = "prefer"
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	return map[string]string{
		"SVIEW_PG_HOST":        u.Hostname(),
		"SVIEW_PG_PORT":        port,
		"SVIEW_PG_DATABASE":    u.Path[1:],
		"SVIEW_PG_USER":        u.User.Username(),
		"SVIEW_PG_PASSWORD":    pw,
		"SVIEW_PG_SSLMODE":     sslmode,
		"SVIEW_REDIS_ADDRESS":  "",
		"SVIEW_REDIS_PASSWORD": "",
	}, nil
}

// NewBackend starts the plugin's datasource instance (plugin.NewDatasource) with the
// provisioned settings and disposes of it when the test ends.
func NewBackend(t testing.TB, databaseURL string) *Backend {
	t.Helper()
	env, err := ProvisionedEnv(databaseURL)
	require.NoError(t, err)
	dss, err := provisioning.Datasources(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	require.Len(t, dss, 1)
	ds := dss[0]
	jsonData, err := ds.JSONDataBytes()
	require.NoError(t, err)
	settings := backend.DataSourceInstanceSettings{
		UID: ds.UID, Type: ds.Type, Name: ds.Name, JSONData: jsonData,
		DecryptedSecureJSONData: ds.SecureJSONData, Updated: time.Now(),
	}
	inst, err := plugin.NewDatasource(context.Background(), settings)
	require.NoError(t, err, "plugin.NewDatasource with the provisioned settings")
	if d, ok := inst.(instancemgmt.InstanceDisposer); ok {
		t.Cleanup(d.Dispose)
	}
	h, ok := inst.(backend.QueryDataHandler)
	require.True(t, ok, "the datasource instance must handle QueryData")
	r, ok := inst.(backend.CallResourceHandler)
	require.True(t, ok, "the datasource instance must serve resources")
	return &Backend{handler: h, resources: r, settings: settings}
}

// Viewer is who opens the dashboards: an org admin, whom the default scopes let see every
// probe (docs/security.md), as the demo stack's admin does.
var Viewer = &backend.User{Login: "admin", Role: "Admin"}

// Query is one query as Grafana sends it to QueryData.
type Query struct {
	RefID     string
	JSON      json.RawMessage
	From, To  time.Time
	Interval  time.Duration
	FromAlert bool
}

// Run sends one query through QueryData and returns its response.
func (b *Backend) Run(ctx context.Context, q Query) (backend.DataResponse, error) {
	req := &backend.QueryDataRequest{
		PluginContext: backend.PluginContext{
			PluginID:                   b.settings.Type,
			DataSourceInstanceSettings: &b.settings,
			User:                       Viewer,
		},
		Headers: map[string]string{},
		Queries: []backend.DataQuery{{
			RefID: q.RefID, JSON: q.JSON, Interval: q.Interval, MaxDataPoints: 1000,
			TimeRange: backend.TimeRange{From: q.From, To: q.To},
		}},
	}
	if q.FromAlert {
		req.Headers[backend.FromAlertHeaderName] = "true"
		req.Headers["X-Cache-Skip"] = "true"
		req.Queries[0].MaxDataPoints = 43200
	}
	resp, err := b.handler.QueryData(ctx, req)
	if err != nil {
		return backend.DataResponse{}, fmt.Errorf("QueryData: %w", err)
	}
	r, ok := resp.Responses[q.RefID]
	if !ok {
		return backend.DataResponse{}, fmt.Errorf("QueryData answered no response for refId %s", q.RefID)
	}
	return r, nil
}

// Verify runs q and checks that the answer has no error, has the shape need, and has every
// field named in fields (those a panel's links, transformations or options refer to).
func (b *Backend) Verify(ctx context.Context, q Query, need Need, fields []string) (data.Frames, error) {
	resp, err := b.Run(ctx, q)
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("query error (status %d): %w", resp.Status, resp.Error)
	}
	if err := Check(need, resp.Frames); err != nil {
		return resp.Frames, err
	}
	if missing := HasFields(resp.Frames, fields); len(missing) > 0 {
		return resp.Frames, fmt.Errorf("no field %v, which the panel refers to: %s", missing, describeAll(resp.Frames))
	}
	return resp.Frames, nil
}

// Resource GETs a resource path (what the browser reaches under
// /api/datasources/uid/<uid>/resources/) and returns the status and body.
func (b *Backend) Resource(ctx context.Context, path string) (int, []byte, error) {
	u, err := url.Parse(path)
	if err != nil {
		return 0, nil, err
	}
	req := &backend.CallResourceRequest{
		PluginContext: backend.PluginContext{PluginID: b.settings.Type, DataSourceInstanceSettings: &b.settings, User: Viewer},
		Path:          u.Path, Method: "GET", URL: path,
	}
	var resp *backend.CallResourceResponse
	err = b.resources.CallResource(ctx, req, backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error {
		if resp == nil {
			resp = r
		} else {
			resp.Body = append(resp.Body, r.Body...)
		}
		return nil
	}))
	if err != nil {
		return 0, nil, fmt.Errorf("CallResource %s: %w", path, err)
	}
	if resp == nil {
		return 0, nil, fmt.Errorf("CallResource %s: no response", path)
	}
	return resp.Status, resp.Body, nil
}
