package summary

import (
	"errors"
	"fmt"
	"time"
)

// ErrMonth marks a month that is not written YYYY-MM.
var ErrMonth = errors.New("invalid month")

// monthLayout is how a month is written in URLs, file names and the CSV.
const monthLayout = "2006-01"

// Month is a calendar month in UTC. The zero value is not a month; use ParseMonth or MonthOf.
type Month struct{ start time.Time }

// ParseMonth reads "YYYY-MM".
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse(monthLayout, s)
	if err != nil {
		if len(s) > 20 {
			s = s[:20] + "…"
		}
		return Month{}, fmt.Errorf("%w %q: want YYYY-MM, e.g. 2026-11", ErrMonth, s)
	}
	return Month{start: t.UTC()}, nil
}

// MonthOf is the month holding t (in UTC).
func MonthOf(t time.Time) Month {
	t = t.UTC()
	return Month{start: time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)}
}

// String is the month as YYYY-MM.
func (m Month) String() string { return m.start.Format(monthLayout) }

// Title is the month as people read it: "November 2026".
func (m Month) Title() string { return m.start.Format("January 2006") }

// Start is the first instant of the month.
func (m Month) Start() time.Time { return m.start }

// End is the first instant after the month.
func (m Month) End() time.Time { return m.start.AddDate(0, 1, 0) }

// Prev is the month before.
func (m Month) Prev() Month { return Month{start: m.start.AddDate(0, -1, 0)} }

// Next is the month after.
func (m Month) Next() Month { return Month{start: m.End()} }

// Days is the number of days in the month.
func (m Month) Days() int { return int(m.End().Sub(m.start) / (24 * time.Hour)) }

// Before reports whether m comes before o.
func (m Month) Before(o Month) bool { return m.start.Before(o.start) }
