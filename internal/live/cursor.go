package live

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// cursor remembers what the listener has delivered. Incidents have no id (and no stable ctid
// on a hypertable), so a read starts Overlap before the newest time seen, and the rows of that
// window already delivered are recognised by their content: a row is new when its content
// occurs more often in the read than among the rows delivered, so identical rows (the same
// attacker, probe and second) are each delivered once.
type cursor struct {
	started bool
	newest  time.Time
	floor   time.Time     // a capped burst's oldest row read: nothing below is read again
	seen    map[Event]int // rows delivered within the overlap window, with their multiplicity
}

// start puts the cursor at the database's present: the rows already in the overlap window are
// history, not news.
func (c *cursor) start(ctx context.Context, conn *pgx.Conn, overlap time.Duration, batch int) error {
	if err := conn.QueryRow(ctx, "SELECT now()").Scan(&c.newest); err != nil {
		return fmt.Errorf("read the database's time: %w", err)
	}
	rows, err := conn.Query(ctx, selectNew, c.newest.Add(-overlap), batch)
	if err != nil {
		return fmt.Errorf("read recent incidents: %w", err)
	}
	recent, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return fmt.Errorf("read recent incidents: %w", err)
	}
	c.seen = map[Event]int{}
	for _, e := range recent {
		c.seen[e]++
		if e.Time.After(c.newest) {
			c.newest = e.Time
		}
	}
	c.started = true
	return nil
}

// from is the time after which the next read looks.
func (c *cursor) from(overlap time.Duration) time.Time {
	from := c.newest.Add(-overlap)
	if c.floor.After(from) {
		return c.floor
	}
	return from
}

// advance takes a read (newest first), returns its rows not delivered yet, oldest first, and
// forgets the rows that fell out of the overlap window. capped: the read hit its row limit.
func (c *cursor) advance(read []Event, overlap time.Duration, capped bool) []Event {
	count := make(map[Event]int, len(read))
	var fresh []Event
	for i := len(read) - 1; i >= 0; i-- {
		e := read[i]
		count[e]++
		if count[e] > c.seen[e] {
			fresh = append(fresh, e)
		}
	}
	for _, e := range fresh {
		c.seen[e]++
		if e.Time.After(c.newest) {
			c.newest = e.Time
		}
	}
	if capped && len(read) > 0 {
		c.floor = read[len(read)-1].Time
	}
	edge := c.from(overlap)
	for e := range c.seen {
		if !e.Time.After(edge) {
			delete(c.seen, e)
		}
	}
	slices.SortStableFunc(fresh, func(a, b Event) int { return a.Time.Compare(b.Time) })
	return fresh
}
