package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/sview-project/sview/internal/answer"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
)

// statusCancelled is what a query cancelled by Grafana (dashboard refreshed or closed) is
// answered with.
const statusCancelled backend.Status = answer.StatusCancelled

// QueryData answers every query of the request on its own: a bad panel query never fails the
// others.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	alert := req.Headers[backend.FromAlertHeaderName] == "true"
	skip := alert || req.Headers["X-Cache-Skip"] == "true" || req.GetHTTPHeader("X-Cache-Skip") == "true"
	resp := backend.NewQueryDataResponse()
	c, err := d.caller(ctx, req.PluginContext.User, alert)
	for _, q := range req.Queries {
		if err != nil {
			resp.Responses[q.RefID] = d.errorResponse(ctx, query.Query{}, err)
			continue
		}
		resp.Responses[q.RefID] = d.query(ctx, q, c.Scope, alert, skip)
	}
	return resp, nil
}

func (d *Datasource) query(ctx context.Context, dq backend.DataQuery, scope query.Scope, alert, skipCache bool) backend.DataResponse {
	if alert {
		if v := templateVariable(dq.JSON); v != "" {
			return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream,
				fmt.Sprintf("%s: %s is still in the query; alert rules get no dashboard variables, use literal values", ErrTemplateVariable, v))
		}
	}
	q, err := query.Parse(dq.JSON)
	if err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, err.Error())
	}
	if q.QueryType == query.TypeLive {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream,
			"queryType live is a stream, served through Grafana Live (docs/live.md), not a query")
	}
	if q, err = scope.Apply(q); err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusForbidden, backend.ErrorSourceDownstream, err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, d.settings.QueryTimeout)
	defer cancel()
	frames, err := d.answers.Frames(ctx, answer.Request{Query: q, Alert: alert, SkipCache: skipCache,
		Range: period.Range{From: dq.TimeRange.From, To: dq.TimeRange.To, Interval: dq.Interval}})
	if err != nil {
		return d.errorResponse(ctx, q, err)
	}
	return backend.DataResponse{Frames: frames}
}

// errorResponse tells the user whose fault err is (answer.Fail) and logs sview's own faults.
func (d *Datasource) errorResponse(ctx context.Context, q query.Query, err error) backend.DataResponse {
	f := answer.Fail(ctx, err, d.settings.QueryTimeout)
	if f.Internal {
		d.logger.Error("query failed", "queryType", q.QueryType, "preset", q.Preset, "err", err)
		return backend.ErrDataResponse(backend.Status(f.Status), f.Message)
	}
	return backend.ErrDataResponseWithSource(backend.Status(f.Status), backend.ErrorSourceDownstream, f.Message)
}

// variablePattern matches Grafana template variables: $name, ${name} and ${name:format}.
var variablePattern = regexp.MustCompile(`\$(\{[A-Za-z_][A-Za-z0-9_]*(:[^}]*)?\}|[A-Za-z_][A-Za-z0-9_]*)`)

// templateVariable returns the first template variable left in the query's string values.
// Passwords may legitimately hold "$", so they are not searched.
func templateVariable(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	var walk func(key string, v any) string
	walk = func(key string, v any) string {
		switch t := v.(type) {
		case string:
			if key != "password" {
				return variablePattern.FindString(t)
			}
		case []any:
			for _, e := range t {
				if s := walk(key, e); s != "" {
					return s
				}
			}
		case map[string]any:
			for k, e := range t {
				if s := walk(k, e); s != "" {
					return s
				}
			}
		}
		return ""
	}
	return walk("", v)
}
