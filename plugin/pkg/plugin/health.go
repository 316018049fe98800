package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sview-project/sview/internal/answer"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/store"
	"github.com/sview-project/sview/migrations"
)

// MaxLag is how far behind the database clock a rollup may be before the health check calls
// aggregation lagging: its bucket plus the aggregator's grace and a margin
// (rollupstate.DueLag), the same bound beyond which the status frames' overdue_seconds is
// positive and the provisioned lag alert fires.
var MaxLag = map[period.Precision]time.Duration{
	period.Quarterly: rollupstate.DueLag(period.Quarterly),
	period.Hourly:    rollupstate.DueLag(period.Hourly),
	period.Daily:     rollupstate.DueLag(period.Daily),
}

const healthTimeout = 10 * time.Second

// healthDetails is the JSONDetails of a health result, for tooling.
type healthDetails struct {
	Database      string   `json:"database"`
	SchemaVersion uint     `json:"schemaVersion,omitempty"`
	Cache         string   `json:"cache"`
	Warnings      []string `json:"warnings,omitempty"`
	// Replica is there when queries go to a read replica.
	Replica *store.ReplicaStatus `json:"replica,omitempty"`
}

// CheckHealth answers Grafana's "Save & test". A database that cannot be reached or whose schema
// is behind is an error, and so is a read replica that is down when reads may not fall back to
// the primary. A dead Redis, a replica that is down (reads on the primary) or lagging, and
// lagging aggregation are reported as warnings with status OK: every query is still answered
// (from PostgreSQL, or from rows that are merely late), so the datasource works, degraded.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	det := healthDetails{Database: "ok", Cache: d.stats.Cache().Status().Backend}
	fail := func(msg string) (*backend.CheckHealthResult, error) {
		det.Database = msg
		b, _ := json.Marshal(det)
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: msg, JSONDetails: b}, nil
	}
	if err := d.primary.Ping(ctx); err != nil {
		return fail(describeConnError("primary", d.primary.Config().ConnConfig, err))
	}
	if d.replica != nil {
		rs := d.reads.Status(ctx)
		det.Replica = &rs
		cfg := d.replica.Config().ConnConfig
		switch {
		case !rs.Reachable && !rs.ReadingPrimary:
			return fail(fmt.Sprintf("%s; queries fail until it answers (read-replica fallback is %q; %q sends them to the primary meanwhile)",
				describeConnError("read-replica", cfg, errors.New(rs.LastError)), rs.Fallback, store.FallbackPrimary))
		case !rs.Reachable:
			det.Warnings = append(det.Warnings, fmt.Sprintf("the read replica at %s:%d is unreachable (%s): queries go to the primary until it answers",
				cfg.Host, cfg.Port, rs.LastError))
		case rs.Lagging():
			det.Warnings = append(det.Warnings, fmt.Sprintf("the read replica is %s behind the primary (more than %s): answers miss the newest rows",
				time.Duration(rs.LagSeconds*float64(time.Second)).Round(time.Second), store.MaxReplicaLag))
		}
	}
	version, err := schemaVersion(ctx, d.primary)
	if err != nil {
		return fail(err.Error())
	}
	det.SchemaVersion = version

	if err := d.stats.Cache().Ping(ctx); err != nil {
		det.Cache = "degraded"
		det.Warnings = append(det.Warnings, fmt.Sprintf("Redis is unreachable (%v): queries are answered from PostgreSQL without the shared cache", err))
	}
	lagging, err := lagWarnings(ctx, d.reads)
	if err != nil {
		det.Warnings = append(det.Warnings, "cannot read the aggregation state: "+err.Error())
	}
	det.Warnings = append(det.Warnings, lagging...)

	msg := fmt.Sprintf("Database connected, schema version %d", version)
	if len(det.Warnings) > 0 {
		msg = "Degraded: " + msg + "; " + strings.Join(det.Warnings, "; ")
	}
	b, _ := json.Marshal(det)
	return &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: msg, JSONDetails: b}, nil
}

// schemaVersion reads schema_migrations directly: the plugin's read-only role cannot take the
// lock golang-migrate wants.
func schemaVersion(ctx context.Context, db interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) (uint, error) {
	var v int64
	var dirty bool
	err := db.QueryRow(ctx, "SELECT version, dirty FROM schema_migrations LIMIT 1").Scan(&v, &dirty)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "42P01":
		return 0, errors.New("[schema] the database has no sview schema: run `sview migrate up` against it")
	case errors.Is(err, pgx.ErrNoRows):
		return 0, errors.New("[schema] no migration has been applied: run `sview migrate up`")
	case err != nil:
		cat, hint := answer.Categorize(err)
		return 0, fmt.Errorf("[%s] read the schema version: %v (%s)", cat, err, hint)
	}
	if v < 0 {
		return 0, fmt.Errorf("[schema] schema_migrations holds version %d: repair it with `sview migrate force`", v)
	}
	if err := migrations.Check(uint(v), dirty); err != nil {
		return uint(v), fmt.Errorf("[schema] %w", err)
	}
	return uint(v), nil
}

func lagWarnings(ctx context.Context, db rollupstate.Querier) ([]string, error) {
	wms, err := rollupstate.Watermarks(ctx, db)
	if err != nil {
		return nil, err
	}
	if len(wms) == 0 {
		return []string{"aggregation has not run yet: start `sview run` (graphs for 6h and longer stay empty until it does)"}, nil
	}
	var out []string
	for _, w := range wms {
		limit, ok := MaxLag[w.Precision]
		lag := time.Duration(w.LagSeconds * float64(time.Second))
		if ok && lag > limit {
			out = append(out, fmt.Sprintf("aggregation lagging: %s_%s is %s behind (more than %s: %s overdue; is `sview run` running?)",
				w.Table, w.Precision, lag.Round(time.Minute), limit, (lag-limit).Round(time.Minute)))
		}
	}
	return out, nil
}

// describeConnError turns a ping failure into "[category] what: error (hint)".
func describeConnError(what string, cfg *pgx.ConnConfig, err error) string {
	cat, hint := answer.Categorize(err)
	if cat == "" {
		cat, hint = "network", "check host and port"
	}
	return fmt.Sprintf("[%s] cannot reach the %s database at %s:%d/%s as %s: %v (%s)", cat, what, cfg.Host, cfg.Port, cfg.Database, cfg.User, err, hint)
}
