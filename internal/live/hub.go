// Package live is the live attack stream (docs/live.md): one listener per process reads the
// incidents written since it last looked and fans them out to every subscriber, each of which
// applies its own filters, scope and rate (stream.go).
package live

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sview-project/sview/internal/geo"
)

// Channel is the channel the incidents trigger notifies (migrations/000050_live_notify.up.sql).
const Channel = "sview_incidents"

// Defaults of Config.
const (
	DefaultPoll    = 2 * time.Second
	DefaultOverlap = 5 * time.Second
	DefaultBatch   = 10000
	// queued is how many fanned-out batches a subscriber may have waiting; beyond that its
	// batches are counted as lost, so a slow subscriber never holds the listener back.
	queued = 64
)

// Event is one incident as the stream shows it.
type Event struct {
	Time    time.Time
	IP      netip.Addr
	Country string // "" when unknown
	ASN     int64  // 0 when unknown
	ASName  string // the AS name of ASN (geo_prefixes), "" when none
	Probe   int64  // identity id
	Serial  string // the probe's serial (identity.sn)
	Trap    string
	Action  string
	Count   int64 // raw_count
}

// Config configures a Hub.
type Config struct {
	// Conn is the connection the listener opens: the primary (a replica can neither LISTEN nor
	// see a row as soon as its notification arrives).
	Conn *pgx.ConnConfig
	// Poll is how long the listener waits for a notification before it reads anyway, so rows of
	// a writer without the trigger still arrive.
	Poll time.Duration
	// Overlap is how far before the newest row seen each read starts again, for rows committed
	// out of time order; the rows already delivered are recognised and skipped.
	Overlap time.Duration
	// Batch caps the rows of one read: a larger burst keeps its newest Batch rows.
	Batch int
	// Logf reports connection failures (nil: none).
	Logf func(msg string, args ...any)
}

// Hub owns the one listener of a process. The listener runs while there is a subscriber.
type Hub struct {
	cfg Config

	life    sync.Mutex // serialises starting and stopping the listener
	stop    context.CancelFunc
	stopped chan struct{}

	mu   sync.Mutex // guards subs; held while fanning out
	subs map[*Subscription]struct{}

	reads    atomic.Int64
	connects atomic.Int64
}

// NewHub makes a hub; nothing runs until the first Subscribe.
func NewHub(cfg Config) *Hub {
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = DefaultOverlap
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	return &Hub{cfg: cfg, subs: map[*Subscription]struct{}{}}
}

// Subscription receives every batch of new incidents from its Subscribe until Close.
type Subscription struct {
	hub  *Hub
	c    chan []Event
	lost atomic.Int64
	once sync.Once
}

// Events delivers the batches, oldest row first; it is closed by Close.
func (s *Subscription) Events() <-chan []Event { return s.c }

// Lost is how many events were not queued because this subscriber was behind.
func (s *Subscription) Lost() int64 { return s.lost.Load() }

// Close leaves the hub; the last subscriber to leave stops the listener and waits for it.
func (s *Subscription) Close() { s.once.Do(func() { s.hub.leave(s) }) }

// Subscribe joins the hub, starting the listener for the first subscriber.
func (h *Hub) Subscribe() *Subscription {
	s := &Subscription{hub: h, c: make(chan []Event, queued)}
	h.life.Lock()
	defer h.life.Unlock()
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	if h.stop == nil {
		ctx, cancel := context.WithCancel(context.Background())
		h.stop, h.stopped = cancel, make(chan struct{})
		go h.run(ctx, h.stopped)
	}
	return s
}

func (h *Hub) leave(s *Subscription) {
	h.life.Lock()
	defer h.life.Unlock()
	h.mu.Lock()
	delete(h.subs, s)
	close(s.c)
	last := len(h.subs) == 0
	h.mu.Unlock()
	if last && h.stop != nil {
		h.stop()
		<-h.stopped
		h.stop, h.stopped = nil, nil
	}
}

// Subscribers is how many subscriptions are open.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Reads is how many times the listener read new rows; Connects how many connections it opened.
func (h *Hub) Reads() int64    { return h.reads.Load() }
func (h *Hub) Connects() int64 { return h.connects.Load() }

func (h *Hub) fanOut(batch []Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.c <- batch:
		default:
			s.lost.Add(int64(len(batch)))
		}
	}
}

// run keeps a listening connection until ctx ends, reconnecting with backoff when it drops.
// The cursor survives reconnections, so rows written during an outage arrive after it.
func (h *Hub) run(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	var cur cursor
	names := asNames{}
	backoff := 100 * time.Millisecond
	for {
		started := time.Now()
		err := h.listen(ctx, &cur, names)
		if ctx.Err() != nil {
			return
		}
		h.cfg.Logf("live listener lost its connection; reconnecting", "err", err, "in", backoff.String())
		if time.Since(started) > time.Minute {
			backoff = 100 * time.Millisecond // it had been working: start the backoff over
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (h *Hub) listen(ctx context.Context, cur *cursor, names asNames) error {
	conn, err := pgx.ConnectConfig(ctx, h.cfg.Conn)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	h.connects.Add(1)
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if !cur.started {
		if err := cur.start(ctx, conn, h.cfg.Overlap, h.cfg.Batch); err != nil {
			return err
		}
	}
	for {
		if err := h.read(ctx, conn, cur, names); err != nil {
			return err
		}
		wait, cancel := context.WithTimeout(ctx, h.cfg.Poll)
		_, err := conn.WaitForNotification(wait)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && !errors.Is(err, context.DeadlineExceeded) && !pgconnTimeout(err):
			return fmt.Errorf("wait for notification: %w", err)
		}
	}
}

// pgconnTimeout reports a wait that ended on its deadline (pgx reports it as a net timeout
// wrapped in its own error when the deadline struck while reading).
func pgconnTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func (h *Hub) read(ctx context.Context, conn *pgx.Conn, cur *cursor, names asNames) error {
	rows, err := conn.Query(ctx, selectNew, cur.from(h.cfg.Overlap), h.cfg.Batch)
	if err != nil {
		return fmt.Errorf("read new incidents: %w", err)
	}
	batch, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return fmt.Errorf("read new incidents: %w", err)
	}
	h.reads.Add(1)
	fresh := cur.advance(batch, h.cfg.Overlap, len(batch) == h.cfg.Batch)
	if len(fresh) == 0 {
		return nil
	}
	if err := names.name(ctx, conn, fresh); err != nil {
		return err
	}
	h.fanOut(fresh)
	return nil
}

// asNames caches the AS names of the ASNs the listener has seen, so each is read once while it
// runs ("" for an ASN without a name, so it is not asked again).
type asNames map[int64]string

// name sets the AS name of each event, reading the names of the ASNs not seen yet in one
// statement.
func (n asNames) name(ctx context.Context, conn *pgx.Conn, events []Event) error {
	var unknown []int64
	for _, e := range events {
		if _, ok := n[e.ASN]; !ok && e.ASN != 0 {
			n[e.ASN] = "" // asked for below; also keeps unknown free of duplicates
			unknown = append(unknown, e.ASN)
		}
	}
	if len(unknown) > 0 {
		read, err := geo.ASNames(ctx, conn, unknown)
		if err != nil {
			for _, asn := range unknown {
				delete(n, asn) // ask again next time
			}
			return err
		}
		maps.Copy(n, read)
	}
	for i := range events {
		events[i].ASName = n[events[i].ASN]
	}
	return nil
}

// selectNew reads the newest rows after a time, newest first (so a capped burst keeps its
// newest rows). The reader role may read identity's id and sn only.
const selectNew = `SELECT i.time, i.ip, coalesce(i.country, ''), coalesce(i.asn, 0)::bigint, i.identity_id,
	coalesce(d.sn, ''), i.trap::text, i.action::text, coalesce(i.raw_count, 1)
	FROM incidents i LEFT JOIN identity d ON d.id = i.identity_id
	WHERE i.time > $1 ORDER BY i.time DESC LIMIT $2`

func scanEvent(row pgx.CollectableRow) (Event, error) {
	var e Event
	var ip netip.Prefix
	err := row.Scan(&e.Time, &ip, &e.Country, &e.ASN, &e.Probe, &e.Serial, &e.Trap, &e.Action, &e.Count)
	e.IP, e.Time = ip.Addr(), e.Time.UTC()
	return e, err
}
