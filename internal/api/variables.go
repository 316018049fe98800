package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sview-project/sview/internal/catalog"
	"github.com/sview-project/sview/internal/geo"
	"github.com/sview-project/sview/internal/greylist"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/sentinel"
	"github.com/sview-project/sview/internal/stats"
)

// Variable lists (GET variables/{kind}, docs/plugin-resources.md).

// ErrVariables marks a bad variables request.
var ErrVariables = errors.New("invalid variables request")

// VariableKinds are the lists the endpoint serves.
var VariableKinds = []string{"probes", "asns", "countries", "traps", "actions", "presets", "periods", "tags",
	"ips", "ports", "passwords", "usernames", "taxonomies", "types", "identifiers", "feeds", "providers", "commands"}

// ranked are the kinds listed by volume within a time range (the values of ad-hoc filters):
// the key's top-N table of the metric counting it, through the stats engine, its cache and the
// caller's scope. The kinds of OnlyRanked are only listed so; the other four are when the
// request gives a range.
var ranked = map[string]struct{ metric, key string }{
	"countries": {"incidents", "country"}, "asns": {"incidents", "asn"}, "traps": {"incidents", "trap"},
	"actions": {"incidents", "action"}, "ips": {"incidents", "ip"}, "ports": {"scans", "port"},
	"passwords": {"usages", "password"}, "usernames": {"usages", "username"},
	"taxonomies": {"events", "taxonomy"}, "types": {"events", "type"}, "identifiers": {"events", "identifier"},
	"feeds": {"events", "feed"}, "providers": {"events", "provider"}, "commands": {"commands", "command"},
}

// OnlyRanked are the kinds without a fixed list: their values are what the data holds.
var OnlyRanked = []string{"ips", "ports", "passwords", "usernames", "taxonomies", "types", "identifiers", "feeds", "providers", "commands"}

// Limits of the variables endpoint.
const (
	DefaultVariablesLimit = 1000
	MaxVariablesLimit     = 10000
	// DefaultRankedLimit bounds a list by volume: the top addresses or passwords of a range.
	DefaultRankedLimit = 100
	// DefaultRankedRange is the range of a list by volume that gives none: the last day.
	DefaultRankedRange = 24 * time.Hour
)

// Option is one value of a template variable.
type Option struct {
	Value string `json:"value"`
	Text  string `json:"text"`
}

// VariablesRequest is a parsed variables request.
type VariablesRequest struct {
	Kind  string
	Q     string // case-insensitive substring of value or text; "" keeps all
	Limit int
	// From and To, when set, list a ranked kind by volume within them.
	From, To time.Time
}

// Ranked reports whether the request lists values by volume within From and To.
func (r VariablesRequest) Ranked() bool {
	_, ok := ranked[r.Kind]
	return ok && !r.From.IsZero()
}

// ParseVariables validates the kind and the q, limit, from and to parameters (from and to in
// epoch milliseconds, as Grafana's time range gives them). A kind only listed by volume without
// a range gets the DefaultRankedRange before now.
func ParseVariables(kind string, params url.Values, now time.Time) (VariablesRequest, error) {
	if !slices.Contains(VariableKinds, kind) {
		return VariablesRequest{}, fmt.Errorf("%w: kind %q, want one of %s", ErrVariables, clip([]byte(kind)), strings.Join(VariableKinds, ", "))
	}
	for k := range params {
		if !slices.Contains([]string{"q", "limit", "from", "to"}, k) {
			return VariablesRequest{}, fmt.Errorf("%w: parameter %q, want q, limit, from or to", ErrVariables, clip([]byte(k)))
		}
	}
	req := VariablesRequest{Kind: kind, Q: params.Get("q"), Limit: DefaultVariablesLimit}
	if len(req.Q) > 200 {
		return VariablesRequest{}, fmt.Errorf("%w: q is %d bytes long, at most 200", ErrVariables, len(req.Q))
	}
	if params.Has("from") != params.Has("to") {
		return VariablesRequest{}, fmt.Errorf("%w: from and to go together (epoch milliseconds)", ErrVariables)
	}
	if params.Has("from") {
		for _, p := range []struct {
			name string
			dst  *time.Time
		}{{"from", &req.From}, {"to", &req.To}} {
			ms, err := strconv.ParseInt(params.Get(p.name), 10, 64)
			if err != nil || ms < 0 {
				return VariablesRequest{}, fmt.Errorf("%w: %s %q, want epoch milliseconds", ErrVariables, p.name, clip([]byte(params.Get(p.name))))
			}
			*p.dst = time.UnixMilli(ms).UTC()
		}
		if !req.To.After(req.From) {
			return VariablesRequest{}, fmt.Errorf("%w: to must be after from", ErrVariables)
		}
	} else if slices.Contains(OnlyRanked, kind) {
		req.From, req.To = now.Add(-DefaultRankedRange).UTC(), now.UTC()
	}
	if req.Ranked() {
		req.Limit = DefaultRankedLimit
	}
	if s := params.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxVariablesLimit {
			return VariablesRequest{}, fmt.Errorf("%w: limit %q, want a number from 1 to %d", ErrVariables, clip([]byte(s)), MaxVariablesLimit)
		}
		req.Limit = n
	}
	return req, nil
}

// RankedVariables lists the values of a ranked kind by volume within the request's range,
// largest first: the key's top-N table as the caller's scope sees it (a network operator sees
// the addresses of its own netblocks). A port is listed by number (TCP/22 and UDP/22 are one
// value); an AS number with its name.
func RankedVariables(ctx context.Context, db DB, st *stats.Service, req VariablesRequest, s query.Scope) ([]Option, error) {
	k := ranked[req.Kind]
	b, _ := json.Marshal(map[string]any{"metric": k.metric, "groupBy": k.key, "format": query.FormatTable, "limit": req.Limit})
	q, err := query.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", req.Kind, err)
	}
	if q, err = s.Apply(q); err != nil {
		return nil, err
	}
	// a table's buckets only widen the range: about 50 of them keep the read coarse
	r := period.Range{From: req.From, To: req.To, Interval: max(req.To.Sub(req.From)/50, time.Minute)}
	res, err := st.Query(ctx, q, r, false)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", req.Kind, err)
	}
	out := []Option{}
	if len(res.Frames) == 0 {
		return out, nil
	}
	field, _ := res.Frames[0].FieldByName(k.key)
	if field == nil {
		return nil, fmt.Errorf("list %s: the %s table has no %s column", req.Kind, k.metric, k.key)
	}
	var asns []int64
	for i := range field.Len() {
		v, _ := field.ConcreteAt(i)
		o := Option{Value: fmt.Sprint(v), Text: fmt.Sprint(v)}
		switch k.key {
		case "port":
			_, o.Value, _ = strings.Cut(o.Text, "/") // TCP/22
		case "asn":
			n, err := strconv.ParseInt(o.Value, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("list %s: %q is no AS number", req.Kind, o.Value)
			}
			asns, o.Text = append(asns, n), "AS"+o.Value
		}
		if !slices.ContainsFunc(out, func(p Option) bool { return p.Value == o.Value }) {
			out = append(out, o)
		}
	}
	names, err := geo.ASNames(ctx, db, asns)
	if err != nil {
		return nil, err
	}
	for i, o := range out {
		if n, err := strconv.ParseInt(o.Value, 10, 64); err == nil && k.key == "asn" && names[n] != "" {
			out[i].Text += " " + names[n]
		}
	}
	return filterOptions(out, req), nil
}

// Variables returns the options of a request within a scope, sorted for display: the
// probes whose own data it may see (by serial number, never a token), and the ASNs it may
// see. The other lists are names, not data, and the same for every scope.
func Variables(ctx context.Context, db DB, req VariablesRequest, s query.Scope) ([]Option, error) {
	switch req.Kind {
	case "probes":
		return queryOptions(ctx, db, `SELECT id::text, sn || ' #' || id AS text FROM identity
			WHERE $3 OR id = ANY($4::bigint[])`, "id", req, s.All, s.Probes)
	case "asns":
		return queryOptions(ctx, db, `SELECT asn::text, 'AS' || asn || coalesce(' ' || max(as_name), '') AS text
			FROM geo_prefixes WHERE asn IS NOT NULL AND ($3 OR asn = ANY($4::bigint[])) GROUP BY asn`, "asn", req,
			s.All || s.Public, s.ASNs)
	case "countries":
		return queryOptions(ctx, db, `SELECT DISTINCT country, country AS text FROM geo_prefixes WHERE country IS NOT NULL`, "country", req)
	case "tags":
		opts, err := queryOptions(ctx, db, `SELECT DISTINCT t, t AS text FROM greylist, unnest(tags) AS t`, "t", req)
		if err != nil {
			return nil, err
		}
		for _, t := range greylist.Tags {
			if !slices.ContainsFunc(opts, func(o Option) bool { return o.Value == t }) {
				opts = append(opts, Option{t, t})
			}
		}
		slices.SortFunc(opts, func(a, b Option) int { return strings.Compare(a.Text, b.Text) })
		return filterOptions(opts, req), nil
	case "traps":
		return filterOptions(same(sentinel.Traps), req), nil
	case "actions":
		return filterOptions(same(sentinel.Actions), req), nil
	case "presets":
		return filterOptions(same(catalog.Names()), req), nil
	case "periods":
		var opts []Option
		for _, p := range period.All {
			opts = append(opts, Option{Value: p.Name, Text: p.Label})
		}
		return filterOptions(opts, req), nil
	}
	return nil, fmt.Errorf("%w: kind %q", ErrVariables, req.Kind)
}

func same(vals []string) []Option {
	opts := make([]Option, len(vals))
	for i, v := range vals {
		opts[i] = Option{v, v}
	}
	return opts
}

func filterOptions(opts []Option, req VariablesRequest) []Option {
	q := strings.ToLower(req.Q)
	out := []Option{}
	for _, o := range opts {
		if len(out) == req.Limit {
			break
		}
		if q == "" || strings.Contains(strings.ToLower(o.Value), q) || strings.Contains(strings.ToLower(o.Text), q) {
			out = append(out, o)
		}
	}
	return out
}

// queryOptions wraps a (value, text) query with the substring filter, the order and the limit
// ($1 and $2; the inner query's own parameters from $3); orderKey sorts numerically for
// numbers and alphabetically otherwise.
func queryOptions(ctx context.Context, db DB, inner, orderKey string, req VariablesRequest, args ...any) ([]Option, error) {
	order := "text"
	if orderKey == "id" || orderKey == "asn" {
		order = "value::bigint"
	}
	sql := `SELECT value, text FROM (` + inner + `) AS o (value, text)
		WHERE $1 = '' OR strpos(lower(value), lower($1)) > 0 OR strpos(lower(text), lower($1)) > 0
		ORDER BY ` + order + ` LIMIT $2`
	rows, err := db.Query(ctx, sql, append([]any{req.Q, req.Limit}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", req.Kind, err)
	}
	defer rows.Close()
	out := []Option{}
	for rows.Next() {
		var o Option
		if err := rows.Scan(&o.Value, &o.Text); err != nil {
			return nil, fmt.Errorf("list %s: %w", req.Kind, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", req.Kind, err)
	}
	return out, nil
}

func (d Deps) variables(w http.ResponseWriter, r *http.Request) {
	req, err := ParseVariables(r.PathValue("kind"), r.URL.Query(), time.Now())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	c, ok := d.caller(w, r)
	if !ok {
		return
	}
	var opts []Option
	if req.Ranked() {
		opts, err = RankedVariables(r.Context(), d.DB, d.Stats, req, c.Scope)
	} else {
		opts, err = Variables(r.Context(), d.DB, req, c.Scope)
	}
	if errors.Is(err, query.ErrForbidden) {
		forbidden(w, err)
		return
	}
	if err != nil {
		d.fail(w, r, "variables", err)
		return
	}
	writeJSON(w, http.StatusOK, opts)
}
