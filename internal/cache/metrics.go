package cache

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what the cache did. Register them with the process's registry (the plugin's
// default registry is what Grafana scrapes through CollectMetrics).
type Metrics struct {
	requests     *prometheus.CounterVec
	errors       *prometheus.CounterVec
	refreshes    *prometheus.CounterVec
	computations prometheus.Counter
	fallbackHits prometheus.Counter
}

// NewMetrics creates the counters and registers them with reg when it is not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sview_cache_requests_total",
			Help: "Cached query lookups by result: hit, stale (served, refresh started), miss, bypass (alert or X-Cache-Skip), degraded (backend down).",
		}, []string{"result"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sview_cache_backend_errors_total",
			Help: "Cache backend operations that failed, by operation.",
		}, []string{"op"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sview_cache_refreshes_total",
			Help: "Background refreshes of stale entries by outcome: ok, error, skipped (another process holds the lock).",
		}, []string{"outcome"}),
		computations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sview_cache_computations_total",
			Help: "Results computed from PostgreSQL on behalf of the cache.",
		}),
		fallbackHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sview_cache_fallback_hits_total",
			Help: "Degraded lookups answered from the in-process copy while the shared backend failed.",
		}),
	}
	if reg != nil {
		m.requests = reuse(reg, m.requests)
		m.errors = reuse(reg, m.errors)
		m.refreshes = reuse(reg, m.refreshes)
		m.computations = reuse(reg, m.computations)
		m.fallbackHits = reuse(reg, m.fallbackHits)
	}
	return m
}

// reuse registers c, or returns the collector already registered under its name: Grafana
// replaces a datasource instance when its settings change, and the new instance keeps counting
// where the old one stopped.
func reuse[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}
