package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// errorLogInterval is how often one kind of error is written to the log at most: an outage
// under load would otherwise write a line per request.
const errorLogInterval = time.Minute

// errorLog writes the first error of a kind at once, then at most one line per interval
// saying how many came since the last line.
type errorLog struct {
	logger Logger
	now    func() time.Time

	mu    sync.Mutex
	kinds map[string]*errorKind
}

type errorKind struct {
	next   time.Time // when the next line may be written
	unseen int       // errors since the last line
}

func newErrorLog(l Logger) *errorLog {
	return &errorLog{logger: l, now: time.Now, kinds: map[string]*errorKind{}}
}

func (l *errorLog) log(kind, msg string, err error) {
	if l == nil || l.logger == nil {
		return
	}
	now := l.now()
	l.mu.Lock()
	k, ok := l.kinds[kind]
	if !ok {
		k = &errorKind{}
		l.kinds[kind] = k
	}
	k.unseen++
	if now.Before(k.next) {
		l.mu.Unlock()
		return
	}
	count := k.unseen
	k.next, k.unseen = now.Add(errorLogInterval), 0
	l.mu.Unlock()
	l.logger.Error(msg, "kind", kind, "count", count, "per", errorLogInterval.String(), "err", err)
}

func (d Deps) logError(kind, msg string, err error) { d.errors.log(kind, msg, err) }

// outage reports whether err means the database cannot be reached now (connection refused or
// lost, server starting or shutting down, timeout) rather than a fault of the request.
func outage(err error) bool {
	var connErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &connErr):
		return true
	case errors.As(err, &pgErr):
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	return pgconn.Timeout(err) || pgconn.SafeToRetry(err)
}

// fail answers a server-side fault with a generic message (the cause goes to the log, once
// per kind and interval): 503 with Retry-After while the database is out of reach, 500
// otherwise, and a cancelled request as such rather than as a fault.
func (d Deps) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	if r.Context().Err() != nil {
		writeJSON(w, 499, errorBody{Error: "request cancelled"})
		return
	}
	if outage(err) {
		d.logError(what+": database unreachable", "request failed: database unreachable", err)
		w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter.Seconds())))
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: what + " is unavailable for now; try again later"})
		return
	}
	d.logError(what, "request failed", err)
	writeJSON(w, http.StatusInternalServerError, errorBody{Error: what + " failed; see the server log"})
}
