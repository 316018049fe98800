package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/sview-project/sview/internal/catalog"
	"github.com/sview-project/sview/internal/greylist"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/sentinel"
)

// Variable lists (GET variables/{kind}, docs/plugin-resources.md).

// ErrVariables marks a bad variables request.
var ErrVariables = errors.New("invalid variables request")

// VariableKinds are the lists the endpoint serves.
var VariableKinds = []string{"probes", "asns", "countries", "traps", "actions", "presets", "periods", "tags"}

// Limits of the variables endpoint.
const (
	DefaultVariablesLimit = 1000
	MaxVariablesLimit     = 10000
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
}

// ParseVariables validates the kind and the q and limit parameters.
func ParseVariables(kind string, params url.Values) (VariablesRequest, error) {
	if !slices.Contains(VariableKinds, kind) {
		return VariablesRequest{}, fmt.Errorf("%w: kind %q, want one of %s", ErrVariables, clip([]byte(kind)), strings.Join(VariableKinds, ", "))
	}
	for k := range params {
		if k != "q" && k != "limit" {
			return VariablesRequest{}, fmt.Errorf("%w: parameter %q, want q or limit", ErrVariables, clip([]byte(k)))
		}
	}
	req := VariablesRequest{Kind: kind, Q: params.Get("q"), Limit: DefaultVariablesLimit}
	if len(req.Q) > 200 {
		return VariablesRequest{}, fmt.Errorf("%w: q is %d bytes long, at most 200", ErrVariables, len(req.Q))
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
	req, err := ParseVariables(r.PathValue("kind"), r.URL.Query())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	c, ok := d.caller(w, r)
	if !ok {
		return
	}
	opts, err := Variables(r.Context(), d.DB, req, c.Scope)
	if err != nil {
		d.fail(w, r, "variables", err)
		return
	}
	writeJSON(w, http.StatusOK, opts)
}
