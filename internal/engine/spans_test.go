package engine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// spanBase is midnight, so hour 24 is the next day.
var spanBase = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func hour(h int) time.Time { return spanBase.Add(time.Duration(h) * time.Hour) }

// hours is the span of hours [from, to).
func hours(from, to int) span { return span{hour(from), hour(to)} }

func TestAppendSpan(t *testing.T) {
	for _, c := range []struct {
		name     string
		spans    []span
		from, to int
		want     []span
	}{
		{"to none", nil, 1, 3, []span{hours(1, 3)}},
		{"touching: merged", []span{hours(1, 3)}, 3, 5, []span{hours(1, 5)}},
		{"after a gap", []span{hours(1, 3)}, 4, 5, []span{hours(1, 3), hours(4, 5)}},
		{"empty", []span{hours(1, 3)}, 4, 4, []span{hours(1, 3)}},
		{"reversed", nil, 5, 4, nil},
	} {
		require.Equal(t, c.want, appendSpan(c.spans, hour(c.from), hour(c.to)), c.name)
	}
}

func TestClip(t *testing.T) {
	spans := []span{hours(1, 3), hours(5, 8)}
	for _, c := range []struct {
		at   int
		want []span
	}{
		{0, spans},
		{1, spans},
		{2, []span{hours(2, 3), hours(5, 8)}},
		{3, []span{hours(5, 8)}},
		{4, []span{hours(5, 8)}},
		{7, []span{hours(7, 8)}},
		{8, nil},
	} {
		require.Equal(t, c.want, clip(spans, hour(c.at)), "from hour %d", c.at)
	}
}

func TestCovers(t *testing.T) {
	spans := []span{hours(1, 3), hours(3, 4), hours(6, 9)}
	for _, c := range []struct {
		from, to int
		want     bool
	}{
		{1, 3, true}, {6, 9, true}, {7, 8, true},
		{0, 2, false}, {8, 10, false}, {4, 6, false},
		{2, 4, false}, // across two spans: appendSpan would have merged them
	} {
		require.Equal(t, c.want, covers(spans, hour(c.from), hour(c.to)), "[%d, %d)", c.from, c.to)
	}
}

// TestOverlaps: invalidated ranges are closed at both ends, the span half-open.
func TestOverlaps(t *testing.T) {
	ranges := []span{hours(2, 4)}
	for _, c := range []struct {
		from, to int
		want     bool
	}{
		{0, 2, false}, // ends where the range starts
		{4, 6, true},  // starts where the range ends: the range includes hour 4
		{5, 6, false},
		{3, 3, true},
		{0, 10, true},
	} {
		require.Equal(t, c.want, overlaps(ranges, hour(c.from), hour(c.to)), "[%d, %d)", c.from, c.to)
	}
	require.False(t, overlaps(nil, hour(0), hour(1)))
}

func TestBounds(t *testing.T) {
	for _, c := range []struct {
		name     string
		runs     [][]span
		from, to time.Time
	}{
		{"none", [][]span{nil, nil}, time.Time{}, time.Time{}},
		{"one run", [][]span{{hours(1, 3), hours(5, 8)}, nil}, hour(1), hour(8)},
		{"the other run", [][]span{nil, {hours(2, 3)}}, hour(2), hour(3)},
		{"interleaved", [][]span{{hours(3, 5), hours(7, 8)}, {hours(1, 3), hours(5, 7), hours(8, 9)}}, hour(1), hour(9)},
	} {
		from, to := bounds(c.runs...)
		require.Equal(t, c.from, from, c.name)
		require.Equal(t, c.to, to, c.name)
	}
}

// TestCut: listed buckets are matched by their UTC start, whatever the window's location.
func TestCut(t *testing.T) {
	listed := map[time.Time]bool{hour(1): true, hour(2): true, hour(4): true, hour(9): true}
	in, out := cut(hour(0), hour(6), time.Hour, listed)
	require.Equal(t, []span{hours(1, 3), hours(4, 5)}, in)
	require.Equal(t, []span{hours(0, 1), hours(3, 4), hours(5, 6)}, out)

	prague := time.FixedZone("CET", 3600)
	in, out = cut(hour(1).In(prague), hour(3).In(prague), time.Hour, listed)
	require.Len(t, in, 1)
	require.True(t, in[0].from.Equal(hour(1)) && in[0].to.Equal(hour(3)), "%v", in)
	require.Empty(t, out)

	in, out = cut(hour(0), hour(0), time.Hour, listed)
	require.Empty(t, in)
	require.Empty(t, out)
}

// TestWholeDays: the whole days inside the hourly spans that the daily twin lists and no
// pending daily recomputation touches move to the daily arm; partial days stay hourly.
func TestWholeDays(t *testing.T) {
	d := func(n int) int { return 24 * n }
	for _, c := range []struct {
		name                 string
		spans, days, pending []span
		rest, whole          []span
	}{
		{
			name:  "partial days at both ends",
			spans: []span{hours(5, d(3)+7)},
			days:  []span{hours(0, d(5))},
			rest:  []span{hours(5, d(1)), hours(d(3), d(3)+7)},
			whole: []span{hours(d(1), d(3))},
		},
		{
			name:  "a day the daily twin does not list",
			spans: []span{hours(0, d(3))},
			days:  []span{hours(0, d(1)), hours(d(2), d(3))},
			rest:  []span{hours(d(1), d(2))},
			whole: []span{hours(0, d(1)), hours(d(2), d(3))},
		},
		{
			name:    "a pending recomputation touching a day",
			spans:   []span{hours(0, d(3))},
			days:    []span{hours(0, d(3))},
			pending: []span{hours(d(1)+3, d(1)+3)},
			rest:    []span{hours(d(1), d(2))},
			whole:   []span{hours(0, d(1)), hours(d(2), d(3))},
		},
		{
			name:    "a pending recomputation ending where a day starts",
			spans:   []span{hours(0, d(2))},
			days:    []span{hours(0, d(2))},
			pending: []span{hours(5, d(1))},
			rest:    []span{hours(0, d(2))},
		},
		{
			name:  "a gap in the hours",
			spans: []span{hours(0, d(1)), hours(d(1)+1, d(3))},
			days:  []span{hours(0, d(3))},
			rest:  []span{hours(d(1)+1, d(2))},
			whole: []span{hours(0, d(1)), hours(d(2), d(3))},
		},
		{
			name:  "no whole day",
			spans: []span{hours(3, 20)},
			days:  []span{hours(0, d(1))},
			rest:  []span{hours(3, 20)},
		},
	} {
		rest, whole := wholeDays(c.spans, c.days, c.pending)
		require.Equal(t, c.rest, rest, c.name)
		require.Equal(t, c.whole, whole, c.name)
	}
}
