package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/sview-project/sview/internal/answer"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
)

// POST /api/query answers one query of the query model (docs/query-model.md) with the frames
// the plugin gives Grafana, in the shape of Grafana's own POST /api/ds/query: {"results":
// {"<refId>": {"status": 200, "frames": [...]}}}. The body is either the query itself, its time
// range in the from and to URL parameters, or Grafana's envelope {"queries": [query], "from":
// ..., "to": ...} with exactly one query, so a script written against Grafana works here too.

// DefaultQueryTimeout bounds one POST /api/query when Deps.QueryTimeout is zero.
const DefaultQueryTimeout = time.Minute

// defaultRange is Grafana's default dashboard range.
const defaultRange = 6 * time.Hour

// defaultMaxDataPoints is how many points a series gets when the query does not say: Grafana
// derives the interval from the panel's width the same way.
const defaultMaxDataPoints = 1000

// errQueryRequest marks a malformed POST /api/query body or range.
var errQueryRequest = errors.New("invalid query request")

// queryRequest is a parsed POST /api/query.
type queryRequest struct {
	refID string
	raw   json.RawMessage
	rng   period.Range
}

// envelope is Grafana's /api/ds/query request.
type envelope struct {
	Queries []json.RawMessage `json:"queries"`
	From    json.RawMessage   `json:"from"`
	To      json.RawMessage   `json:"to"`
}

// grafanaFields are the keys Grafana puts beside the model in a query (query.GrafanaKeys):
// the ones that shape the answer.
type grafanaFields struct {
	RefID         string `json:"refId"`
	IntervalMs    int64  `json:"intervalMs"`
	MaxDataPoints int64  `json:"maxDataPoints"`
}

func parseQueryRequest(body []byte, params map[string][]string, now time.Time) (queryRequest, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return queryRequest{}, fmt.Errorf("%w: want a JSON object: %v", query.ErrInvalidJSON, err)
	}
	var req queryRequest
	from, to := param(params, "from"), param(params, "to")
	if _, ok := top["queries"]; ok {
		var env envelope
		if err := json.Unmarshal(body, &env); err != nil {
			return req, fmt.Errorf("%w: %v", errQueryRequest, err)
		}
		if len(env.Queries) != 1 {
			return req, fmt.Errorf("%w: queries holds %d queries; POST /api/query answers exactly one", errQueryRequest, len(env.Queries))
		}
		req.raw = env.Queries[0]
		from, to = rawString(env.From), rawString(env.To)
	} else {
		req.raw = body
	}
	var g grafanaFields
	if err := json.Unmarshal(req.raw, &g); err != nil {
		return req, fmt.Errorf("%w: refId, intervalMs, maxDataPoints: %v", query.ErrInvalidField, err)
	}
	req.refID = g.RefID
	if req.refID == "" {
		req.refID = "A"
	}
	var err error
	if req.rng.To, err = parseTime("to", to, now, now); err != nil {
		return req, err
	}
	if req.rng.From, err = parseTime("from", from, now, req.rng.To.Add(-defaultRange)); err != nil {
		return req, err
	}
	if !req.rng.To.After(req.rng.From) {
		return req, fmt.Errorf("%w: from %s is not before to %s", errQueryRequest, req.rng.From.Format(time.RFC3339), req.rng.To.Format(time.RFC3339))
	}
	req.rng.Interval = time.Duration(g.IntervalMs) * time.Millisecond
	if req.rng.Interval <= 0 {
		points := g.MaxDataPoints
		if points <= 0 {
			points = defaultMaxDataPoints
		}
		req.rng.Interval = req.rng.To.Sub(req.rng.From) / time.Duration(points)
	}
	return req, nil
}

func param(params map[string][]string, name string) string {
	if v := params[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// rawString reads a JSON string or number as its text: Grafana sends epoch milliseconds as
// strings, scripts often as numbers.
func rawString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

// relativeUnits are the units of Grafana's relative times (now-6h).
var relativeUnits = map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}

// parseTime reads one end of the range: epoch milliseconds, RFC 3339, "now" or "now-<n><unit>"
// with a unit of s, m, h, d or w; empty is def.
func parseTime(name, s string, now, def time.Time) (time.Time, error) {
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("%w: %s %q: want epoch milliseconds, RFC 3339, now or now-<n><s|m|h|d|w>", errQueryRequest, name, clip([]byte(s)))
	}
	switch {
	case s == "" || s == "null":
		return def, nil
	case s == "now":
		return now, nil
	case strings.HasPrefix(s, "now-") && len(s) > 5:
		unit, ok := relativeUnits[s[len(s)-1]]
		n, err := strconv.Atoi(s[4 : len(s)-1])
		if !ok || err != nil || n <= 0 {
			return bad()
		}
		return now.Add(-time.Duration(n) * unit), nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return bad()
}

func (d Deps) query(w http.ResponseWriter, r *http.Request) {
	c, ok := d.caller(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: fmt.Sprintf("the query body is larger than %d bytes", d.Limits.maxBody())})
		return
	}
	req, err := parseQueryRequest(body, r.URL.Query(), time.Now())
	if err != nil {
		// under the query's refId once read (a bad range), "A" before (a body that is no query)
		writeQueryResponse(w, cmp.Or(req.refID, "A"), http.StatusBadRequest, backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, err.Error()))
		return
	}
	q, err := query.Parse(req.raw)
	if err == nil {
		q, err = c.Scope.Apply(q)
	}
	if err != nil {
		f := answer.Fail(r.Context(), err, 0)
		writeQueryResponse(w, req.refID, f.Status, backend.ErrDataResponseWithSource(backend.Status(f.Status), backend.ErrorSourceDownstream, f.Message))
		return
	}
	timeout := d.QueryTimeout
	if timeout <= 0 {
		timeout = DefaultQueryTimeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	frames, err := d.Answers.Frames(ctx, answer.Request{Query: q, Range: req.rng})
	if err != nil {
		f := answer.Fail(ctx, err, timeout)
		if f.Internal || f.Status == http.StatusBadGateway {
			// The cause of a fault stays in the server's log: the public never sees SQL or hosts.
			d.fail(w, r, "query", err)
			return
		}
		writeQueryResponse(w, req.refID, f.Status, backend.ErrDataResponseWithSource(backend.Status(f.Status), backend.ErrorSourceDownstream, f.Message))
		return
	}
	writeQueryResponse(w, req.refID, http.StatusOK, backend.DataResponse{Frames: frames})
}

// writeQueryResponse writes one answer in Grafana's /api/ds/query shape.
func writeQueryResponse(w http.ResponseWriter, refID string, status int, dr backend.DataResponse) {
	resp := backend.NewQueryDataResponse()
	resp.Responses[refID] = dr
	b, err := resp.MarshalJSON()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "encode the frames: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
