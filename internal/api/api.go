// Package api holds the HTTP handlers shared by `sview serve` (the public API) and the Grafana
// plugin's resource calls: variable values, the greylist CSV, leaked-password lookups, the
// original password-check and resource APIs, an HIBP-compatible range API, the monthly
// summaries, health and metrics.
package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sview-project/sview/internal/answer"
	"github.com/sview-project/sview/internal/leak"
	"github.com/sview-project/sview/internal/stats"
	"github.com/sview-project/sview/internal/store"
	"github.com/sview-project/sview/internal/summary"
)

// DB is what the handlers read PostgreSQL through: a *pgxpool.Pool.
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Ping(ctx context.Context) error
}

// Replica is the state of the read replica: *store.Reads.
type Replica interface {
	Status(ctx context.Context) store.ReplicaStatus
}

// Logger is the logger of the handlers: *slog.Logger and the plugin SDK's logger both fit.
type Logger interface {
	Error(msg string, args ...any)
}

// Deps are what the handlers need.
type Deps struct {
	DB DB
	// Replica, when set, says how the read replica behind DB is doing (/healthz).
	Replica Replica
	Stats   *stats.Service // answers /api/resource; its cache shows in /healthz
	// Answers, when set, serves POST /api/query within QueryTimeout (0: DefaultQueryTimeout).
	Answers      *answer.Service
	QueryTimeout time.Duration
	// Gatherer serves /metrics; nil leaves /metrics out.
	Gatherer prometheus.Gatherer
	Logger   Logger
	Limits   Limits
	// Caller resolves who asks; Public defaults it to PublicCaller.
	Caller CallerFunc
	// Claims, when set, serves the probe claims of signed-in users (the plugin's /claims).
	Claims Claimer
	// Summaries, when set, serves the monthly summaries (docs/summary.md).
	Summaries *summary.Publisher
	// Ranges, when set, answers GET /range/{prefix} from memory with validators (ETag,
	// Last-Modified); without it every request queries the database.
	Ranges *leak.RangeStore

	errors *errorLog // set by Public and Resources
}

// Public is the handler of `sview serve`: every endpoint, behind rate and size limits.
func Public(d Deps) http.Handler {
	if d.Caller == nil {
		d.Caller = PublicCaller(d.DB)
	}
	d.errors = newErrorLog(d.Logger)
	mux := http.NewServeMux()
	resources(mux, d)
	mux.HandleFunc("/passcheck/apiv1/", d.passcheck)
	mux.HandleFunc("GET /range/{prefix}", d.hibpRange)
	mux.HandleFunc("GET /api/resource", d.resource)
	mux.HandleFunc("POST /api/resource", d.resource)
	if d.Answers != nil {
		mux.HandleFunc("POST /api/query", d.query)
	}
	if d.Summaries != nil {
		d.summaryRoutes(mux)
	}
	mux.HandleFunc("GET /healthz", d.healthz)
	if d.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{}))
	}
	return NewLimiter(d.Limits).Wrap(mux)
}

// Resources is the handler of the plugin's CallResource: variable values, the greylist CSV,
// leak lookups and probe claims. Grafana authenticates and rate-limits these calls itself;
// d.Caller names the signed-in user.
func Resources(d Deps) http.Handler {
	d.errors = newErrorLog(d.Logger)
	mux := http.NewServeMux()
	resources(mux, d)
	if d.Claims != nil {
		mux.HandleFunc("GET /claims", d.listClaims)
		mux.HandleFunc("POST /claims", d.claim)
		mux.HandleFunc("DELETE /claims/{probe}", d.unclaim)
	}
	return MaxBytes(mux, d.Limits.maxBody())
}

func resources(mux *http.ServeMux, d Deps) {
	mux.HandleFunc("GET /variables/{kind}", d.variables)
	mux.HandleFunc("GET /greylist-latest.csv", d.greylistLatest)
	mux.HandleFunc("GET /greylist/{file}", d.greylistDay)
	mux.HandleFunc("GET /leak", d.leakLookup)
	mux.HandleFunc("POST /leak", d.leakLookup)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// errorBody is the error shape of the endpoints sview adds (variables, leak, healthz).
type errorBody struct {
	Error string `json:"error"`
}
