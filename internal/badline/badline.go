// Package badline records the bad lines of an imported file: each is skipped, never fatal, and
// reported with its 1-based number and the reason. A Collector counts all of them and keeps only
// the first few, so a file of garbage cannot fill memory.
package badline

import (
	"fmt"
	"io"
)

// DefaultKeep is how many bad lines a Collector keeps when asked for none.
const DefaultKeep = 20

// Line is one bad line: its 1-based number in the file and why it was skipped.
type Line struct {
	Number int64
	Err    error
}

func (l Line) Error() string { return fmt.Sprintf("line %d: %v", l.Number, l.Err) }

func (l Line) Unwrap() error { return l.Err }

// Collector counts every bad line and keeps the first of them with their numbers.
type Collector struct {
	keep  int
	count int64
	lines []Line
}

// NewCollector keeps the first keep bad lines (DefaultKeep when keep <= 0).
func NewCollector(keep int) *Collector {
	if keep <= 0 {
		keep = DefaultKeep
	}
	return &Collector{keep: keep}
}

// Add records the bad line number and the reason err.
func (c *Collector) Add(number int64, err error) {
	c.count++
	if len(c.lines) < c.keep {
		c.lines = append(c.lines, Line{Number: number, Err: err})
	}
}

// Count is the number of bad lines added.
func (c *Collector) Count() int64 { return c.count }

// Lines are the bad lines kept, in the order added.
func (c *Collector) Lines() []Line { return c.lines }

// Print writes "<prefix>bad line N: reason" for each kept bad line, then how many of the total
// were not shown. Callers showing fewer pass a shorter kept.
func Print(w io.Writer, prefix string, kept []Line, total int64) {
	for _, l := range kept {
		fmt.Fprintf(w, "%sbad %v\n", prefix, l)
	}
	if more := total - int64(len(kept)); more > 0 {
		fmt.Fprintf(w, "%s… and %d more bad lines\n", prefix, more)
	}
}
