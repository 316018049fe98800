package twin

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/rollupstate"
)

// Running is the running totals of the ports rollups (migration 000044): per bucket, the scans
// of every (protocol, port) summed from an origin bucket through that bucket, as one encoded
// row. The scans of a window of whole buckets are the difference of two rows, a few hundred
// kilobytes, where the ranked twin's pruning cuts nothing: past the popular ports, scans spread
// evenly over every port, so the exact 30th most scanned port can only be found by summing
// every port of the window.
var Running = running{}

type running struct{}

func (running) table() derived.Table {
	t, _ := derived.Find(derived.Running, derived.Ports)
	return t
}

// Family is the table family the running totals sum.
func (r running) Family() derived.Family { return r.table().Family }

// Serves reports whether the running totals hold the sums of a ranked twin (ports by port).
func (r running) Serves(t derived.Table) bool {
	return t.Kind == derived.Ranked && t.Family == r.Family() && t.Suffix == r.table().Sums
}

// twin is the ranked twin each bucket's sums are read from.
func (r running) twin() derived.Table {
	ts := Ranked(r.Family())
	return ts[slices.IndexFunc(ts, r.Serves)]
}

// Table names the running totals of a precision, e.g. ports_daily_running.
func (r running) Table(p period.Precision) string { return r.table().Name(p) }

// protocols are the values of protocol_t (migration 000001) in their order, the high half of
// a PortKey.
var protocols = []string{"TCP", "UDP", "other"}

// PortKey is a (protocol, port) packed into one sortable number.
type PortKey uint64

// NewPortKey packs a protocol (protocol_t text) and a port.
func NewPortKey(protocol string, port int32) (PortKey, error) {
	i := slices.Index(protocols, protocol)
	if i < 0 {
		return 0, fmt.Errorf("protocol %q is not one of %v", protocol, protocols)
	}
	return PortKey(uint64(i)<<32 | uint64(uint32(port))), nil // #nosec G115 -- the port's 32 bits as they are; Texts reverses it
}

// Texts is the key as the twin's key columns read as text: protocol, port.
func (k PortKey) Texts() []string {
	return []string{protocols[k>>32], strconv.Itoa(int(int32(uint32(k))))} // #nosec G115 -- the low 32 bits are the port NewPortKey stored
}

// Totals are counts per PortKey, sorted by key, none zero.
type Totals struct {
	Keys   []PortKey
	Counts []int64
}

// NewTotals makes totals of counts per key in any order, a key possibly repeated.
func NewTotals(keys []PortKey, counts []int64) Totals {
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(keys[a], keys[b]) })
	var t Totals
	for _, i := range order {
		if n := t.Len(); n > 0 && t.Keys[n-1] == keys[i] {
			t.Counts[n-1] += counts[i]
			continue
		}
		t.Keys, t.Counts = append(t.Keys, keys[i]), append(t.Counts, counts[i])
	}
	return t.merge(Totals{}, 1) // drops the zeros
}

// Len is the number of keys.
func (t Totals) Len() int { return len(t.Keys) }

// Add returns t + u.
func (t Totals) Add(u Totals) Totals { return t.merge(u, 1) }

// Sub returns t − u: the counts of the buckets t sums beyond those u sums. A negative count
// means u sums something t does not, so they are not of one chain.
func (t Totals) Sub(u Totals) (Totals, error) {
	d := t.merge(u, -1)
	for i, c := range d.Counts {
		if c < 0 {
			return Totals{}, fmt.Errorf("running totals do not contain each other: key %v is %d", d.Keys[i].Texts(), c)
		}
	}
	return d, nil
}

func (t Totals) merge(u Totals, sign int64) Totals {
	out := Totals{Keys: make([]PortKey, 0, max(t.Len(), u.Len())), Counts: make([]int64, 0, max(t.Len(), u.Len()))}
	put := func(k PortKey, c int64) {
		if c != 0 {
			out.Keys, out.Counts = append(out.Keys, k), append(out.Counts, c)
		}
	}
	i, j := 0, 0
	for i < t.Len() || j < u.Len() {
		switch {
		case j == u.Len() || (i < t.Len() && t.Keys[i] < u.Keys[j]):
			put(t.Keys[i], t.Counts[i])
			i++
		case i == t.Len() || u.Keys[j] < t.Keys[i]:
			put(u.Keys[j], sign*u.Counts[j])
			j++
		default:
			put(t.Keys[i], t.Counts[i]+sign*u.Counts[j])
			i, j = i+1, j+1
		}
	}
	return out
}

// Encode writes the totals as pairs of uvarints: the gap to the previous key, the count.
func (t Totals) Encode() []byte {
	buf := make([]byte, 0, 4*t.Len())
	var prev PortKey
	for i, k := range t.Keys {
		buf = binary.AppendUvarint(buf, uint64(k-prev))
		buf = binary.AppendUvarint(buf, uint64(t.Counts[i])) // #nosec G115 -- counts are positive (Sub refuses negatives); DecodeTotals checks the range
		prev = k
	}
	return buf
}

// DecodeTotals reads what Encode wrote.
func DecodeTotals(b []byte) (Totals, error) {
	// At least two bytes a key: one for its gap, one for its count.
	t := Totals{Keys: make([]PortKey, 0, len(b)/2), Counts: make([]int64, 0, len(b)/2)}
	var prev PortKey
	for len(b) > 0 {
		gap, n := binary.Uvarint(b)
		if n <= 0 {
			return Totals{}, errors.New("running totals: truncated key")
		}
		b = b[n:]
		c, n := binary.Uvarint(b)
		if n <= 0 {
			return Totals{}, errors.New("running totals: truncated count")
		}
		b = b[n:]
		if (gap == 0 && t.Len() > 0) || c == 0 {
			return Totals{}, errors.New("running totals: keys out of order or a zero count")
		}
		if c > math.MaxInt64 {
			return Totals{}, errors.New("running totals: count out of range")
		}
		prev += PortKey(gap)
		t.Keys, t.Counts = append(t.Keys, prev), append(t.Counts, int64(c))
	}
	return t, nil
}

// Row is one row of running totals.
type Row struct {
	Time, Origin time.Time // the bucket summed through, and the first bucket summed
	Totals       Totals
}

// Through is the newest bucket the running totals of a precision sum; ok is false when there
// is none. It reads no totals, for status and metrics.
func (r running) Through(ctx context.Context, q rollupstate.Querier, precision period.Precision) (at time.Time, ok bool, err error) {
	var newest *time.Time
	if err := q.QueryRow(ctx, "SELECT max(time) FROM "+r.Table(precision)).Scan(&newest); err != nil {
		return at, false, fmt.Errorf("read the newest row of %s: %w", r.Table(precision), err)
	}
	if newest == nil {
		return at, false, nil
	}
	return newest.UTC(), true, nil
}

// ReadRow reads the running totals of a precision at the latest bucket before until (any
// bucket when until is zero); ok is false when there is none.
func (r running) ReadRow(ctx context.Context, q rollupstate.Querier, precision period.Precision, until time.Time) (row Row, ok bool, err error) {
	var enc []byte
	var before *time.Time
	if !until.IsZero() {
		before = &until
	}
	err = q.QueryRow(ctx, "SELECT time, origin, totals FROM "+r.Table(precision)+" WHERE $1::timestamptz IS NULL OR time < $1 ORDER BY time DESC LIMIT 1",
		before).Scan(&row.Time, &row.Origin, &enc)
	if errors.Is(err, pgx.ErrNoRows) {
		return row, false, nil
	}
	if err != nil {
		return row, false, fmt.Errorf("read %s before %s: %w", r.Table(precision), until.Format(time.RFC3339), err)
	}
	if row.Totals, err = DecodeTotals(enc); err != nil {
		return row, false, fmt.Errorf("read %s at %s: %w", r.Table(precision), row.Time.Format(time.RFC3339), err)
	}
	row.Time, row.Origin = row.Time.UTC(), row.Origin.UTC()
	return row, true, nil
}

// Extend builds the running totals of one more bucket and returns it: the bucket after the
// newest row or, when there is none, the origin of a new chain, the later of first (the oldest
// bucket the rollup holds) and the oldest bucket a window of Span(precision) before closed
// reaches. It builds nothing (ok false)
// when that bucket is not before closed or twin_buckets does not list it yet. q must be a
// transaction that holds the ports input lock of the precision shared (see the aggregator), so
// no rewrite of the buckets summed commits beside it; its table lock keeps a concurrent Extend
// from building the same rows.
func (r running) Extend(ctx context.Context, q rollupstate.Querier, precision period.Precision, first, closed time.Time) (at time.Time, ok bool, err error) {
	table, step := r.Table(precision), precision.Step()
	if _, err := q.Exec(ctx, "LOCK TABLE "+table+" IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return at, false, fmt.Errorf("lock %s: %w", table, err)
	}
	prev, chained, err := r.ReadRow(ctx, q, precision, time.Time{})
	if err != nil {
		return at, false, err
	}
	// A chain that fell behind the oldest bucket still held, or a window's length behind closed
	// (the job was stopped for long), starts over there instead of catching up.
	at = maxTime(first, closed.Add(-derived.TwinSpan(precision)).Truncate(step))
	origin := at
	if chained && !prev.Time.Add(step).Before(at) {
		at, origin = prev.Time.Add(step), prev.Origin
	} else if chained {
		if _, err := q.Exec(ctx, "DELETE FROM "+table); err != nil {
			return at, false, fmt.Errorf("restart %s: %w", table, err)
		}
		prev = Row{}
	}
	if !at.Before(closed) {
		return at, false, nil
	}
	if listed, err := rollupstate.TwinListed(ctx, q, rollupstate.Key{Table: r.Family(), Precision: precision}, at); err != nil || !listed {
		return at, false, err
	}
	bucket, err := r.bucketTotals(ctx, q, precision, at)
	if err != nil {
		return at, false, err
	}
	if _, err := q.Exec(ctx, "INSERT INTO "+table+" (time, origin, totals) VALUES ($1, $2, $3)",
		at, origin, prev.Totals.Add(bucket).Encode()); err != nil {
		return at, false, fmt.Errorf("write %s at %s: %w", table, at.Format(time.RFC3339), err)
	}
	// Rows older than the longest window are never read again: the newest row carries on.
	if _, err := q.Exec(ctx, "DELETE FROM "+table+" WHERE time < $1", at.Add(-derived.TwinSpan(precision))); err != nil {
		return at, false, fmt.Errorf("trim %s: %w", table, err)
	}
	return at, true, nil
}

// bucketTotals reads the scans per port of one bucket from its ranked twin.
func (r running) bucketTotals(ctx context.Context, q rollupstate.Querier, precision period.Precision, at time.Time) (Totals, error) {
	src := r.twin().Name(precision)
	rows, err := q.Query(ctx, "SELECT protocol::text, port, raw_count FROM "+src+" WHERE time = $1", at)
	if err != nil {
		return Totals{}, fmt.Errorf("read %s at %s: %w", src, at.Format(time.RFC3339), err)
	}
	defer rows.Close()
	var keys []PortKey
	var counts []int64
	for rows.Next() {
		var protocol string
		var port int32
		var n int64
		if err := rows.Scan(&protocol, &port, &n); err != nil {
			return Totals{}, fmt.Errorf("read %s at %s: %w", src, at.Format(time.RFC3339), err)
		}
		k, err := NewPortKey(protocol, port)
		if err != nil {
			return Totals{}, fmt.Errorf("read %s at %s: %w", src, at.Format(time.RFC3339), err)
		}
		keys, counts = append(keys, k), append(counts, n)
	}
	if err := rows.Err(); err != nil {
		return Totals{}, fmt.Errorf("read %s at %s: %w", src, at.Format(time.RFC3339), err)
	}
	return NewTotals(keys, counts), nil
}

// StaleSQL deletes the running totals that sum a bucket of [$1, $2) of the precision: the
// rows at or after it whose chain starts before its end.
func (r running) StaleSQL(precision period.Precision) string {
	return "DELETE FROM " + r.Table(precision) + " WHERE time >= $1 AND origin < $2"
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
