// Package twin describes the ranked twins of the hourly and daily rollups (migration 000041):
// narrow tables that sum a wide rollup over one key, each row ranked inside its bucket. The
// aggregator builds them with BuildSQL; the engine reads them for unfiltered top-N queries and
// for queries whose filters and grouping only touch the twin's key.
package twin

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// TopRanks is how many ranks of every bucket a top-N query reads as candidates; it reads rank
// TopRanks+1 too, whose count bounds every key left out of that bucket. The partial indexes of
// migration 000041 cover rank <= TopRanks+1.
const TopRanks = 100

// Precisions are the rollups that have twins: the sources of the 1w, 1m, 3m and 1y periods.
var Precisions = []string{"hourly", "daily"}

// Twin is one ranked twin of a table family.
type Twin struct {
	Source string   // table family: incidents, passwords or ports
	Name   string   // suffix of the table name, e.g. by_password
	Keys   []string // key columns, in the order rows are ranked by on equal counts
}

// All lists every twin, grouped by source, each source's smallest first: the engine reads the
// first twin of a source that covers a query.
var All = []Twin{
	// A few hundred rows per bucket (migration 000045): incident counts by kind and country.
	{Source: "incidents", Name: "by_kind", Keys: []string{"trap", "action", "country"}},
	{Source: "incidents", Name: "by_ip", Keys: []string{"ip"}},
	{Source: "passwords", Name: "by_password", Keys: []string{"password"}},
	{Source: "passwords", Name: "by_username", Keys: []string{"username"}},
	{Source: "passwords", Name: "by_login", Keys: []string{"username", "password"}},
	// Two rows per bucket (migration 000043): total scans over time.
	{Source: "ports", Name: "by_protocol", Keys: []string{"protocol"}},
	{Source: "ports", Name: "by_port", Keys: []string{"protocol", "port"}},
}

// Of returns the twins of a table family.
func Of(source string) []Twin {
	var ts []Twin
	for _, t := range All {
		if t.Source == source {
			ts = append(ts, t)
		}
	}
	return ts
}

// Has reports whether a precision of a table family has twins.
func Has(source, precision string) bool {
	return len(Of(source)) > 0 && hasPrecision(precision)
}

func hasPrecision(precision string) bool { return slices.Contains(Precisions, precision) }

// Span is the longest window the twins of a precision answer: eight days hourly (the 1w period
// reads hourly), 400 days daily (1y is 378).
func Span(precision string) time.Duration {
	if precision == "hourly" {
		return 8 * 24 * time.Hour
	}
	return 400 * 24 * time.Hour
}

// Table names the twin at a precision, e.g. passwords_daily_by_password.
func (t Twin) Table(precision string) string {
	return t.Source + "_" + precision + "_" + t.Name
}

// Covers reports whether the twin's key columns include every column in cols.
func (t Twin) Covers(cols ...string) bool {
	for _, c := range cols {
		if !slices.Contains(t.Keys, c) {
			return false
		}
	}
	return true
}

// BuildSQL returns the statements that rebuild the twin's buckets of [$1, $2) from the wide
// rollup, which must hold final rows for them.
func (t Twin) BuildSQL(precision string) (del, ins string) {
	dst := t.Table(precision)
	keys := strings.Join(t.Keys, ", ")
	del = fmt.Sprintf("DELETE FROM %s WHERE time >= $1 AND time < $2", dst)
	ins = fmt.Sprintf(`INSERT INTO %[1]s (time, %[2]s, raw_count, rank)
	SELECT time, %[2]s, sum(raw_count), row_number() OVER (PARTITION BY time ORDER BY sum(raw_count) DESC, %[2]s)
	FROM %[3]s_%[4]s WHERE time >= $1 AND time < $2
	GROUP BY time, %[2]s`, dst, keys, t.Source, precision)
	return del, ins
}

// Builder is one table the twin job builds bucket by bucket.
type Builder interface {
	Table(precision string) string
	BuildSQL(precision string) (del, ins string)
}

// Builders lists what the twin job builds for a table family: its ranked twins, and for
// incidents the sightings.
func Builders(source string) []Builder {
	var bs []Builder
	for _, t := range Of(source) {
		bs = append(bs, t)
	}
	if source == Sightings.Source() {
		bs = append(bs, Sightings)
	}
	return bs
}
