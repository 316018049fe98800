package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/sview-project/sview/internal/cache"
)

// Health is the answer of /healthz: categories only. The causes (addresses, users, database
// names in driver errors) go to the server log, never to an unauthenticated client.
type Health struct {
	Status   string       `json:"status"`   // ok, degraded (cache down, queries still answered) or error
	Database string       `json:"database"` // ok or unreachable
	Cache    *CacheHealth `json:"cache,omitempty"`
	// Replica is there when reads go to a streaming replica.
	Replica *ReplicaHealth `json:"replica,omitempty"`
}

// ReplicaHealth is the read replica's part of Health.
type ReplicaHealth struct {
	Reachable      bool    `json:"reachable"`
	ReadingPrimary bool    `json:"reading_primary"` // the replica is down, reads go to the primary
	LagSeconds     float64 `json:"lag_seconds"`
}

// CacheHealth is the cache's part of Health.
type CacheHealth struct {
	Backend  string `json:"backend"` // redis or memory
	Degraded bool   `json:"degraded"`
}

// RetryAfter is what an outage tells clients to wait before asking again.
const RetryAfter = 30 * time.Second

// CheckHealth pings the database and the cache. Only a dead database is an error: without the
// cache every query is still answered, from PostgreSQL. A read replica that is down (reads go to
// the primary) or lagging beyond store.MaxReplicaLag is degraded.
func (d Deps) CheckHealth(ctx context.Context) Health {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	h := Health{Status: "ok", Database: "ok"}
	if err := d.DB.Ping(ctx); err != nil {
		h.Status, h.Database = "error", "unreachable"
		d.logError("healthz", "database unreachable", err)
	}
	if d.Replica != nil {
		if rs := d.Replica.Status(ctx); rs.Configured {
			h.Replica = &ReplicaHealth{Reachable: rs.Reachable, ReadingPrimary: rs.ReadingPrimary, LagSeconds: rs.LagSeconds}
			if (rs.ReadingPrimary || rs.Lagging()) && h.Status == "ok" {
				h.Status = "degraded"
			}
		}
	}
	if d.Stats != nil {
		c := d.Stats.Cache()
		_ = c.Ping(ctx) // updates the status read below
		st := c.Status()
		h.Cache = &CacheHealth{Backend: st.Backend, Degraded: st.Degraded}
		if st.Degraded {
			d.logError("healthz", "cache degraded", cacheError(st))
			if h.Status == "ok" {
				h.Status = "degraded"
			}
		}
	}
	return h
}

type cacheError cache.Status

func (e cacheError) Error() string { return e.LastError }

func (d Deps) healthz(w http.ResponseWriter, r *http.Request) {
	h := d.CheckHealth(r.Context())
	status := http.StatusOK
	if h.Status == "error" {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter.Seconds())))
	}
	writeJSON(w, status, h)
}
