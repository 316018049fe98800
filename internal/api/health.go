package api

import (
	"context"
	"net/http"
	"time"

	"github.com/sview-project/sview/internal/cache"
)

// Health is the answer of /healthz.
type Health struct {
	Status   string        `json:"status"` // ok, degraded (cache down, queries still answered) or error
	Database string        `json:"database"`
	Cache    *cache.Status `json:"cache,omitempty"`
}

// CheckHealth pings the database and the cache. Only a dead database is an error: without the
// cache every query is still answered, from PostgreSQL.
func CheckHealth(ctx context.Context, db DB, c *cache.Cache) Health {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	h := Health{Status: "ok", Database: "ok"}
	if err := db.Ping(ctx); err != nil {
		h.Status, h.Database = "error", err.Error()
	}
	if c != nil {
		_ = c.Ping(ctx) // updates the status read below
		st := c.Status()
		h.Cache = &st
		if st.Degraded && h.Status == "ok" {
			h.Status = "degraded"
		}
	}
	return h
}

func (d Deps) healthz(w http.ResponseWriter, r *http.Request) {
	var c *cache.Cache
	if d.Stats != nil {
		c = d.Stats.Cache()
	}
	h := CheckHealth(r.Context(), d.DB, c)
	status := http.StatusOK
	if h.Status == "error" {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, h)
}
