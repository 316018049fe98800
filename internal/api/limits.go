package api

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of Limits.
const (
	DefaultRate         = 20   // requests per second per client
	DefaultBurst        = 40   // requests a client may send at once
	DefaultMaxBodyBytes = 4096 // the largest body any endpoint accepts (passcheck needs ~50 bytes)
	// maxClients bounds the limiter table; idle clients are dropped first.
	maxClients  = 100_000
	idleTimeout = 10 * time.Minute
)

// Limits are the per-client limits of the public API.
type Limits struct {
	Rate         float64 // requests per second per client IP; 0 = DefaultRate, < 0 = unlimited
	Burst        int     // 0 = DefaultBurst
	MaxBodyBytes int64   // 0 = DefaultMaxBodyBytes
}

func (l Limits) maxBody() int64 {
	if l.MaxBodyBytes <= 0 {
		return DefaultMaxBodyBytes
	}
	return l.MaxBodyBytes
}

// Limiter rate-limits per client IP (token bucket) and caps request bodies.
type Limiter struct {
	limit   rate.Limit
	burst   int
	maxBody int64
	now     func() time.Time

	mu      sync.Mutex
	clients map[string]*client
	swept   time.Time
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLimiter builds a limiter from l, filling defaults.
func NewLimiter(l Limits) *Limiter {
	lim := &Limiter{limit: rate.Limit(l.Rate), burst: l.Burst, maxBody: l.maxBody(), now: time.Now, clients: map[string]*client{}}
	if l.Rate == 0 {
		lim.limit = DefaultRate
	}
	if l.Rate < 0 {
		lim.limit = rate.Inf
	}
	if lim.burst <= 0 {
		lim.burst = DefaultBurst
	}
	return lim
}

// Wrap applies the limits to next. The client is the connection's address: behind a reverse
// proxy, that proxy must do its own limiting (X-Forwarded-For is not trusted, it is forgeable).
func (l *Limiter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait, ok := l.allow(clientIP(r)); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			writeJSON(w, http.StatusTooManyRequests, errorBody{Error: "too many requests; retry later"})
			return
		}
		MaxBytes(next, l.maxBody).ServeHTTP(w, r)
	})
}

// MaxBytes caps request bodies at n bytes; a larger body is answered 413.
func MaxBytes(next http.Handler, n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: "request body larger than " + strconv.FormatInt(n, 10) + " bytes"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// allow takes a token for ip; when none is left it says how long until one is.
func (l *Limiter) allow(ip string) (time.Duration, bool) {
	if l.limit == rate.Inf {
		return 0, true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	c, ok := l.clients[ip]
	if !ok {
		c = &client{lim: rate.NewLimiter(l.limit, l.burst)}
		l.clients[ip] = c
	}
	c.seen = now
	res := c.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, false
	}
	return 0, true
}

// sweep drops idle clients once a minute, or at once when the table is full, so the table
// cannot grow without bound under a scan of many addresses.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute && len(l.clients) < maxClients {
		return
	}
	l.swept = now
	for ip, c := range l.clients {
		if now.Sub(c.seen) > idleTimeout || len(l.clients) >= maxClients {
			delete(l.clients, ip)
		}
	}
}
