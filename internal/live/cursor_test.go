package live

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCursorDeliversEachRowOnce(t *testing.T) {
	t0 := time.Unix(1e9, 0).UTC()
	at := func(sec float64, ip string) Event {
		return Event{Time: t0.Add(time.Duration(sec * float64(time.Second))), IP: netip.MustParseAddr(ip), Trap: "haas", Action: "login"}
	}
	overlap := 5 * time.Second
	c := cursor{started: true, newest: t0, seen: map[Event]int{}}

	// Reads come newest first; what is new comes back oldest first.
	a, b := at(1, "192.0.2.1"), at(2, "192.0.2.2")
	require.Equal(t, []Event{a, a, b}, c.advance([]Event{b, a, a}, overlap, false))
	require.Equal(t, t0.Add(2*time.Second), c.newest)
	require.Equal(t, t0.Add(-3*time.Second), c.from(overlap))

	// The next read overlaps: the rows seen are skipped, a third identical row and a late
	// commit inside the window are news.
	late := at(1.5, "192.0.2.3")
	require.Equal(t, []Event{a, late}, c.advance([]Event{b, late, a, a, a}, overlap, false))

	// Rows fall out of the window once the newest moves 5 s past them.
	d := at(8, "192.0.2.4")
	require.Equal(t, []Event{d}, c.advance([]Event{d, b, late, a, a, a}, overlap, false))
	require.Equal(t, map[Event]int{d: 1}, c.seen)

	// A capped read keeps its newest rows and never reads below its oldest again.
	e, f := at(9, "192.0.2.5"), at(10, "192.0.2.6")
	require.Equal(t, []Event{e, f}, c.advance([]Event{f, e}, overlap, true))
	require.Equal(t, e.Time, c.from(overlap))
	require.Empty(t, c.advance([]Event{f}, overlap, false))
}
