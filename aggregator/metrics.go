package aggregator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sview-project/sview/internal/rollupstate"
)

type metrics struct {
	registry *prometheus.Registry // nil when the caller brought a Registerer
	rows     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	failures *prometheus.CounterVec
	// twinsBuilt counts buckets whose ranked twins were built, per table and precision.
	twinsBuilt *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, pool *pgxpool.Pool) (*metrics, error) {
	m := &metrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sview_rollup_rows_total", Help: "Rollup rows written, per table and precision.",
		}, []string{"table", "precision"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sview_job_duration_seconds", Help: "Duration of rollup steps and jobs.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 9),
		}, []string{"job"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sview_job_failures_total", Help: "Failed rollup steps and jobs.",
		}, []string{"job"}),
		twinsBuilt: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sview_twin_buckets_built_total", Help: "Buckets whose ranked twins were built, per table and precision.",
		}, []string{"table", "precision"}),
	}
	if reg == nil {
		m.registry = prometheus.NewRegistry()
		reg = m.registry
	}
	for _, c := range []prometheus.Collector{m.rows, m.duration, m.failures, m.twinsBuilt, newStateCollector(pool)} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// stateCollector reads lag, pending invalidations and buckets without twins from the database
// at scrape time, so the figures are right whichever aggregator advanced the watermarks.
type stateCollector struct {
	pool                      *pgxpool.Pool
	lag, pending, twinPending *prometheus.Desc
}

func newStateCollector(pool *pgxpool.Pool) stateCollector {
	return stateCollector{
		pool: pool,
		lag: prometheus.NewDesc("sview_rollup_lag_seconds",
			"Time between now and the watermark of a table and precision.", []string{"table", "precision"}, nil),
		pending: prometheus.NewDesc("sview_rollup_invalidations_pending",
			"Invalidated ranges waiting to be recomputed.", []string{"table", "precision"}, nil),
		twinPending: prometheus.NewDesc("sview_twin_buckets_pending",
			"Closed buckets whose ranked twins are not built yet.", []string{"table", "precision"}, nil),
	}
}

func (s stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.lag
	ch <- s.pending
	ch <- s.twinPending
}

func (s stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if wms, err := rollupstate.Watermarks(ctx, s.pool); err == nil {
		for _, w := range wms {
			ch <- prometheus.MustNewConstMetric(s.lag, prometheus.GaugeValue, w.LagSeconds, string(w.Table), string(w.Precision))
		}
	} else {
		ch <- prometheus.NewInvalidMetric(s.lag, err)
	}
	if invs, err := rollupstate.Invalidations(ctx, s.pool); err == nil {
		for _, v := range invs {
			ch <- prometheus.MustNewConstMetric(s.pending, prometheus.GaugeValue, float64(v.Ranges), string(v.Table), string(v.Precision))
		}
	} else {
		ch <- prometheus.NewInvalidMetric(s.pending, err)
	}
	if lags, err := TwinStatus(ctx, s.pool); err == nil {
		for _, l := range lags {
			ch <- prometheus.MustNewConstMetric(s.twinPending, prometheus.GaugeValue, float64(l.Pending), string(l.Table), string(l.Precision))
		}
	} else {
		ch <- prometheus.NewInvalidMetric(s.twinPending, err)
	}
}

// MetricsHandler serves the Manager's metrics in the Prometheus text format: its own registry,
// or the default gatherer when Config.Registerer was given.
func (m *Manager) MetricsHandler() http.Handler {
	var g prometheus.Gatherer = prometheus.DefaultGatherer
	if m.metrics.registry != nil {
		g = m.metrics.registry
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

// ServeMetrics serves MetricsHandler on addr under /metrics until ctx ends.
func (m *Manager) ServeMetrics(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.MetricsHandler())
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	m.log.Info("serving metrics", "addr", ln.Addr().String())
	select {
	case err := <-done:
		return fmt.Errorf("serve metrics: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("stop metrics server: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve metrics: %w", err)
	}
	return nil
}
