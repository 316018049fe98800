package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sview-project/sview/internal/api"
	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/greylist"
	"github.com/sview-project/sview/internal/leak"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/stats"
)

// statusCancelled is what a query cancelled by Grafana (dashboard refreshed or closed) is
// answered with: nginx's "client closed request", so it never reads as a timeout or a fault.
const statusCancelled backend.Status = 499

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
	if q, err = scope.Apply(q); err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusForbidden, backend.ErrorSourceDownstream, err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, d.settings.QueryTimeout)
	defer cancel()
	var frames data.Frames
	switch q.QueryType {
	case query.TypeStats:
		frames, err = d.statsFrames(ctx, q, period.Range{From: dq.TimeRange.From, To: dq.TimeRange.To, Interval: dq.Interval}, skipCache)
	case query.TypeGreylist:
		if q.Format == query.FormatTimeSeries {
			frames, err = d.greylistSizeFrames(ctx, q, dq.TimeRange)
		} else {
			frames, err = d.greylistFrames(ctx, q)
		}
	case query.TypeLeak:
		frames, err = d.leakFrames(ctx, q)
	case query.TypeStatus:
		frames, err = d.statusFrames(ctx, alert)
	case query.TypeTrend:
		var res stats.Result
		res, err = d.stats.Trend(ctx, q, period.Range{From: dq.TimeRange.From, To: dq.TimeRange.To, Interval: dq.Interval}, skipCache)
		frames = res.Frames
	default:
		err = backend.DownstreamErrorf("queryType %q: want one of %s", q.QueryType, strings.Join(query.QueryTypes, ", "))
	}
	if err != nil {
		return d.errorResponse(ctx, q, err)
	}
	return backend.DataResponse{Frames: frames}
}

// errorResponse decides whose fault err is and says so clearly.
func (d *Datasource) errorResponse(ctx context.Context, q query.Query, err error) backend.DataResponse {
	down := func(st backend.Status, msg string) backend.DataResponse {
		return backend.ErrDataResponseWithSource(st, backend.ErrorSourceDownstream, msg)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return down(backend.StatusTimeout, fmt.Sprintf("query timed out after %s: narrow the time range, or raise the query timeout in the datasource settings", d.settings.QueryTimeout))
	case errors.Is(err, context.Canceled):
		return down(statusCancelled, "query cancelled")
	case errors.Is(err, query.ErrInvalidField), errors.Is(err, query.ErrMissingField), errors.Is(err, query.ErrUnsupported),
		errors.Is(err, query.ErrInvalidJSON), errors.Is(err, greylist.ErrInvalid), errors.Is(err, leak.ErrInvalidHash),
		errors.Is(err, leak.ErrInvalidPrefix), errors.Is(err, api.ErrLeakRequest), backend.IsDownstreamError(err):
		return down(backend.StatusBadRequest, err.Error())
	}
	if cat, hint := categorize(err); cat != "" {
		return down(backend.StatusBadGateway, fmt.Sprintf("[%s] %v (%s)", cat, err, hint))
	}
	d.logger.Error("query failed", "queryType", q.QueryType, "preset", q.Preset, "err", err)
	return backend.ErrDataResponse(backend.StatusInternal, "query failed: "+err.Error())
}

func (d *Datasource) statsFrames(ctx context.Context, q query.Query, r period.Range, skipCache bool) (data.Frames, error) {
	res, err := d.stats.Query(ctx, q, r, skipCache)
	if err != nil {
		return nil, err
	}
	frames := res.Frames
	if len(frames) > 0 {
		if frames[0].Meta == nil {
			frames[0].Meta = &data.FrameMeta{}
		}
		if m, ok := frames[0].Meta.Custom.(map[string]any); ok {
			m["cache"] = string(res.State)
			m["computedAt"] = res.ComputedAt
		}
		if res.State == cache.StateDegraded {
			frames[0].Meta.Notices = append(frames[0].Meta.Notices, data.Notice{Severity: data.NoticeSeverityWarning,
				Text: "The cache is unreachable; this answer was computed from PostgreSQL. See the datasource's health check."})
		}
	}
	return frames, nil
}

// greylistFilter is the greylist package's filter for a greylist query.
func greylistFilter(q query.Query) greylist.Filter {
	asns := make([]int, len(q.Filters.ASN))
	for i, a := range q.Filters.ASN {
		asns[i] = int(a)
	}
	f := greylist.Filter{Tags: q.Filters.Tag, Countries: q.Filters.Country, ASNs: asns,
		MinScore: q.MinScore, Limit: q.Limit, Order: greylist.OrderScore}
	if r := q.Restrict; r != nil {
		f.Within = &greylist.Within{ASNs: r.ASNs, Prefixes: r.Prefixes}
	}
	return f
}

// greylistSizeFrames answers the greylist's size per day (its daily snapshots) over the
// query's period, or over the dashboard range when the period is empty.
func (d *Datasource) greylistSizeFrames(ctx context.Context, q query.Query, tr backend.TimeRange) (data.Frames, error) {
	from, to := tr.From, tr.To
	if p, ok := period.Lookup(q.Period); ok {
		w := p.Window(time.Now(), false)
		from, to = w.From, w.To
	}
	sizes, err := greylist.Sizes(ctx, d.read, greylistFilter(q), from, to)
	if err != nil {
		return nil, err
	}
	days, counts := make([]time.Time, len(sizes)), make([]int64, len(sizes))
	for i, s := range sizes {
		days[i], counts[i] = s.Day, int64(s.Size)
	}
	f := data.NewFrame("greylist size", data.NewField("time", nil, days), data.NewField("size", nil, counts))
	f.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1}}
	return data.Frames{f}, nil
}

func (d *Datasource) greylistFrames(ctx context.Context, q query.Query) (data.Frames, error) {
	entries, err := greylist.List(ctx, d.read, greylistFilter(q))
	if err != nil {
		return nil, err
	}
	n := len(entries)
	ip, tags, country := make([]string, n), make([]string, n), make([]string, n)
	score := make([]float64, n)
	probes, incidents, asn := make([]int64, n), make([]int64, n), make([]int64, n)
	first, last := make([]*time.Time, n), make([]*time.Time, n)
	for i, e := range entries {
		ip[i], tags[i], country[i] = e.IP.String(), strings.Join(e.Tags, ","), e.Country
		score[i], probes[i], incidents[i], asn[i] = e.Score, int64(e.Probes), e.Incidents, int64(e.ASN)
		first[i], last[i] = timePtr(e.FirstSeen), timePtr(e.LastSeen)
	}
	f := data.NewFrame("greylist",
		data.NewField("ip", nil, ip), data.NewField("tags", nil, tags), data.NewField("score", nil, score),
		data.NewField("probes", nil, probes), data.NewField("incidents", nil, incidents),
		data.NewField("country", nil, country), data.NewField("asn", nil, asn),
		data.NewField("first_seen", nil, first), data.NewField("last_seen", nil, last))
	f.Meta = &data.FrameMeta{Type: data.FrameTypeTable, PreferredVisualization: data.VisTypeTable}
	return data.Frames{f}, nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (d *Datasource) leakFrames(ctx context.Context, q query.Query) (data.Frames, error) {
	// query.Parse admits only hashes here: plain passwords are refused before.
	req := api.LeakRequest{Kind: "sha1", Value: q.SHA1}
	if q.Prefix != "" {
		req = api.LeakRequest{Kind: "prefix", Value: q.Prefix}
	}
	recs, err := api.Leak(ctx, d.read, req)
	if err != nil {
		return nil, err
	}
	hash, sources := make([]string, len(recs)), make([]string, len(recs))
	count := make([]int64, len(recs))
	for i, r := range recs {
		hash[i], count[i], sources[i] = r.Hash.String(), r.Count, strings.Join(r.Sources, ",")
	}
	f := data.NewFrame("leak", data.NewField("hash", nil, hash), data.NewField("count", nil, count), data.NewField("sources", nil, sources))
	f.Meta = &data.FrameMeta{Type: data.FrameTypeNumericLong, TypeVersion: data.FrameTypeVersion{0, 1}}
	return data.Frames{f}, nil
}

// statusFrames: aggregation lag per table × precision as a numeric-long frame, and the cache
// state. Alerts get the lag frame with one numeric column, overdue_seconds (the lag beyond the
// precision's bucket, grace and margin: rollupstate.Overdue), so a rule evaluates it per table
// and precision with one threshold; the cache frame is left out for them (it is no number).
// Every field carries its name as displayNameFromDS: with two frames Grafana would otherwise
// display "aggregation_lag lag_seconds" and "cache degraded", which panels' matchers miss.
func (d *Datasource) statusFrames(ctx context.Context, alert bool) (data.Frames, error) {
	wms, err := rollupstate.Watermarks(ctx, d.read)
	if err != nil {
		return nil, err
	}
	tables, precisions := make([]string, len(wms)), make([]string, len(wms))
	lag, due, overdue := make([]float64, len(wms)), make([]float64, len(wms)), make([]float64, len(wms))
	for i, w := range wms {
		tables[i], precisions[i], lag[i] = string(w.Table), string(w.Precision), w.LagSeconds
		due[i], overdue[i] = rollupstate.DueLag(w.Precision).Seconds(), w.Overdue().Seconds()
	}
	seconds := func(name string, v []float64) *data.Field {
		f := data.NewField(name, nil, v)
		f.Config = &data.FieldConfig{Unit: "s", DisplayNameFromDS: name}
		return f
	}
	lf := data.NewFrame("aggregation_lag", named("table", tables), named("precision", precisions))
	if alert {
		lf.Fields = append(lf.Fields, seconds("overdue_seconds", overdue))
	} else {
		lf.Fields = append(lf.Fields, seconds("lag_seconds", lag), seconds("due_seconds", due), seconds("overdue_seconds", overdue))
	}
	lf.Meta = &data.FrameMeta{Type: data.FrameTypeNumericLong, TypeVersion: data.FrameTypeVersion{0, 1}}
	if alert {
		return data.Frames{lf}, nil
	}
	st := d.stats.Cache().Status()
	degraded := int64(0)
	if st.Degraded {
		degraded = 1
	}
	cf := data.NewFrame("cache", named("backend", []string{st.Backend}),
		named("last_error", []string{st.LastError}), named("degraded", []int64{degraded}))
	cf.Meta = &data.FrameMeta{Type: data.FrameTypeNumericLong, TypeVersion: data.FrameTypeVersion{0, 1}}
	return data.Frames{lf, cf}, nil
}

// named is a field that Grafana displays by its name, however many frames come with it.
func named(name string, values any) *data.Field {
	f := data.NewField(name, nil, values)
	f.Config = &data.FieldConfig{DisplayNameFromDS: name}
	return f
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

// categorize sorts a PostgreSQL failure into what an operator should look at.
func categorize(err error) (category, hint string) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "28P01" || pgErr.Code == "28000":
			return "auth", "check the user and password in the datasource settings"
		case pgErr.Code == "3D000":
			return "config", "the database does not exist: check its name"
		case pgErr.Code == "42P01" || pgErr.Code == "42883":
			return "schema", "the sview schema is missing or old: run `sview migrate up`"
		case pgErr.Code == "42501":
			return "auth", "permission denied: grant the sview_reader role to this user"
		case strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P03":
			return "network", "the server closed the connection or is starting up"
		}
		return "", ""
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		msg := strings.ToLower(err.Error())
		switch {
		case strings.Contains(msg, "tls") || strings.Contains(msg, "ssl") || strings.Contains(msg, "certificate"):
			return "tls", "check the TLS mode: the server and sslmode must agree"
		case strings.Contains(msg, "password") || strings.Contains(msg, "authentication"):
			return "auth", "check the user and password in the datasource settings"
		case strings.Contains(msg, "does not exist"):
			return "config", "check the database and user names"
		case strings.Contains(msg, "timeout") || strings.Contains(msg, "deadline"):
			return "timeout", "the server did not answer in time: check host, port and firewalls"
		}
		return "network", "cannot connect: check host and port, and that PostgreSQL accepts connections from Grafana"
	}
	return "", ""
}
