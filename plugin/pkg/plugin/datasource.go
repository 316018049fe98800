// Package plugin is the Grafana-facing side of the sview datasource: settings, QueryData,
// CheckHealth and CallResource. The logic lives in internal packages; this one wires them to
// the SDK and decides which errors are the user's.
package plugin

import (
	"context"
	"fmt"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/backend/resource/httpadapter"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sview-project/sview/internal/answer"
	"github.com/sview-project/sview/internal/api"
	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/live"
	"github.com/sview-project/sview/internal/stats"
	"github.com/sview-project/sview/internal/store"
)

// ID is the plugin id of plugin.json.
const ID = "sview-sentinel-datasource"

// applicationName marks the plugin's sessions in pg_stat_activity.
const applicationName = "sview-grafana-plugin"

// liveApplicationName marks the live stream's listener (internal/live), one per datasource.
const liveApplicationName = "sview-grafana-plugin-live"

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// Datasource is one configured sview datasource.
type Datasource struct {
	settings  Settings
	primary   *pgxpool.Pool         // schema checks
	replica   *pgxpool.Pool         // nil without a read replica
	reads     *store.Reads          // where queries go: the replica, or the primary without one or while it is down
	metrics   *store.ReplicaMetrics // nil without a replica
	stats     *stats.Service
	answers   *answer.Service
	live      *live.Hub // the live stream's one listener, on the primary (stream.go)
	resources backend.CallResourceHandler
	logger    log.Logger
}

// NewDatasource is the instance factory Grafana calls when a datasource is created or its
// settings change. It never connects: a database that is down must still let CheckHealth
// explain what is wrong.
func NewDatasource(ctx context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	set, err := LoadSettings(ctx, s)
	if err != nil {
		return nil, backend.DownstreamError(err)
	}
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"datasource": s.UID}, prometheus.DefaultRegisterer)
	return New(set, log.DefaultLogger.With("datasource", s.UID), reg)
}

// New builds a datasource from validated settings; reg receives the cache metrics.
func New(set Settings, logger log.Logger, reg prometheus.Registerer) (*Datasource, error) {
	primary, err := newPool(set.DatabaseURL)
	if err != nil {
		return nil, backend.DownstreamError(fmt.Errorf("PostgreSQL settings: %w", err))
	}
	var replica *pgxpool.Pool
	if set.ReadURL != set.DatabaseURL {
		if replica, err = newPool(set.ReadURL); err != nil {
			primary.Close()
			return nil, backend.DownstreamError(fmt.Errorf("read-replica settings: %w", err))
		}
	}
	closePools := func() {
		if replica != nil {
			replica.Close()
		}
		primary.Close()
	}
	reads, err := store.NewReads(primary, replica, set.ReadFallback)
	if err != nil {
		closePools()
		return nil, backend.DownstreamError(fmt.Errorf("read-replica settings: %w", err))
	}
	c, err := newCache(set, logger, reg)
	if err != nil {
		closePools()
		return nil, err
	}
	d := &Datasource{settings: set, primary: primary, replica: replica, reads: reads, logger: logger,
		stats: stats.New(stats.Config{DB: reads, Cache: c, MaxRows: set.MaxRows, TTL: set.CacheTTL})}
	if replica != nil && reg != nil {
		if d.metrics, err = store.RegisterReplicaMetrics(reg); err != nil {
			logger.Warn("no replica metrics", "err", err)
		} else {
			d.metrics.Attach(reads)
		}
	}
	d.answers = &answer.Service{Stats: d.stats, DB: reads, Replica: reads}
	listen := primary.Config().ConnConfig
	listen.RuntimeParams["application_name"] = liveApplicationName
	d.live = live.NewHub(live.Config{Conn: listen, Logf: logger.Warn})
	d.resources = httpadapter.New(api.Resources(api.Deps{DB: reads, Replica: reads, Stats: d.stats, Logger: logger,
		Caller: d.resourceCaller, Claims: primary}))
	return d, nil
}

// newCache uses Redis when configured (shared by every Grafana instance) and an in-process LRU
// otherwise.
func newCache(set Settings, logger log.Logger, reg prometheus.Registerer) (*cache.Cache, error) {
	c, err := cache.Open(set.Redis, cache.Options{Metrics: cache.NewMetrics(reg), Logger: logger})
	if err != nil {
		return nil, backend.DownstreamError(fmt.Errorf("cache settings: %w", err))
	}
	return c, nil
}

func newPool(url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = applicationName
	// Queries are read-only; a replica or a read-only role must never be asked to write.
	cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	return pgxpool.NewWithConfig(context.Background(), cfg)
}

// Dispose closes the pools and stops background cache refreshes; Grafana calls it when the
// instance is replaced or deleted.
func (d *Datasource) Dispose() {
	if err := d.stats.Cache().Close(); err != nil {
		d.logger.Warn("close cache", "err", err)
	}
	if d.metrics != nil {
		d.metrics.Detach(d.reads)
	}
	if d.replica != nil {
		d.replica.Close()
	}
	d.primary.Close()
}

// CallResource serves the resource endpoints (docs/plugin-resources.md).
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	return d.resources.CallResource(ctx, req, sender)
}
