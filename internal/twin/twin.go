// Package twin builds and reads what the twin job derives from the hourly and daily rollups
// after each rollup step (see internal/derived for the registry): the ranked twins (migration
// 000041), narrow tables that sum a rollup over a few keys with each row ranked inside its
// bucket; the sightings of attacking addresses; and the running totals of ports.
package twin

import (
	"fmt"
	"strings"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
)

// Ranked lists the ranked twins of a family, smallest first.
func Ranked(f derived.Family) []derived.Table { return derived.Of(derived.Ranked, f) }

// Has reports whether a family has ranked twins at a precision.
func Has(f derived.Family, p period.Precision) bool {
	ts := Ranked(f)
	return len(ts) > 0 && ts[0].At(p)
}

// rankedSQL returns the statements that rebuild a ranked twin's buckets of [$1, $2) from the
// rollup, which must hold final rows for them.
func rankedSQL(t derived.Table, p period.Precision) (del, ins string) {
	dst := t.Name(p)
	keys := strings.Join(t.Keys, ", ")
	del = fmt.Sprintf("DELETE FROM %s WHERE time >= $1 AND time < $2", dst)
	ins = "INSERT INTO " + dst + " (time, " + keys + ", raw_count, rank)\n" +
		"\tSELECT time, " + keys + ", sum(raw_count), row_number() OVER (PARTITION BY time ORDER BY sum(raw_count) DESC, " + keys + ")\n" +
		"\tFROM " + derived.RollupOf(t.Family).Name(p) + " WHERE time >= $1 AND time < $2\n" +
		"\tGROUP BY time, " + keys
	return del, ins
}

// Builder is one table the twin job builds bucket by bucket.
type Builder struct {
	Table derived.Table
	// SQL returns the statements that rebuild the buckets of [$1, $2) at a precision.
	SQL func(p period.Precision) (del, ins string)
}

// Builders lists what the twin job builds for a family: its ranked twins, and for incidents
// the sightings.
func Builders(f derived.Family) []Builder {
	var bs []Builder
	for _, t := range Ranked(f) {
		bs = append(bs, Builder{Table: t, SQL: func(p period.Precision) (string, string) { return rankedSQL(t, p) }})
	}
	if f == Sightings.Family() {
		bs = append(bs, Builder{Table: Sightings.table(), SQL: Sightings.BuildSQL})
	}
	return bs
}
