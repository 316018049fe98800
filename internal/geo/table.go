package geo

import (
	"context"
	"fmt"
	"net/netip"
	"sort"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Info is what is known about an address: its autonomous system (0 = unknown) and country
// ("" = unknown).
type Info struct {
	ASN     int32
	Country string
}

// Prefix is one row of geo_prefixes.
type Prefix struct {
	Network netip.Prefix
	Info
}

// Table answers address lookups in memory: the prefixes flattened into sorted, disjoint
// address ranges, each carrying the most specific prefix's data, searched by bisection. It is
// safe for concurrent use once built. The zero value and nil answer nothing.
type Table struct {
	starts []u128
	ends   []u128
	vals   []int32 // index into infos
	infos  []Info
}

// Len is the number of disjoint ranges.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.starts)
}

// Lookup returns what the most specific prefix holding a says.
func (t *Table) Lookup(a netip.Addr) (Info, bool) {
	if t == nil || len(t.starts) == 0 || !a.IsValid() {
		return Info{}, false
	}
	x := fromAddr(a.Unmap())
	// The last range starting at or before x.
	i := sort.Search(len(t.starts), func(i int) bool { return x.less(t.starts[i]) }) - 1
	if i < 0 || t.ends[i].less(x) {
		return Info{}, false
	}
	return t.infos[t.vals[i]], true
}

// NewTable builds a table from prefixes that either nest or are disjoint (as CIDRs always do);
// where they nest, the longer prefix wins. Duplicate prefixes keep the first.
func NewTable(prefixes []Prefix) *Table {
	type item struct {
		start, end u128
		val        int32
	}
	t := &Table{}
	infoIdx := map[Info]int32{}
	items := make([]item, 0, len(prefixes))
	for _, p := range prefixes {
		if !p.Network.IsValid() {
			continue
		}
		idx, ok := infoIdx[p.Info]
		if !ok {
			idx = int32(len(t.infos)) // #nosec G115 -- distinct (country, ASN, ...) infos number thousands, not 2^31
			infoIdx[p.Info] = idx
			t.infos = append(t.infos, p.Info)
		}
		s, e := prefixRange(netip.PrefixFrom(p.Network.Addr().Unmap(), p.Network.Bits()-unmapBits(p.Network)))
		items = append(items, item{s, e, idx})
	}
	// Outer prefixes before the ones nested in them: by start, then the widest first.
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].start != items[j].start {
			return items[i].start.less(items[j].start)
		}
		return items[j].end.less(items[i].end)
	})
	emit := func(s, e u128, v int32) {
		if e.less(s) {
			return
		}
		n := len(t.starts)
		if n > 0 && t.vals[n-1] == v && !t.ends[n-1].isMax() && t.ends[n-1].add1() == s {
			t.ends[n-1] = e // merge adjacent ranges with the same data
			return
		}
		t.starts = append(t.starts, s)
		t.ends = append(t.ends, e)
		t.vals = append(t.vals, v)
	}
	var stack []item
	var cur u128  // first address not yet emitted
	done := false // cur wrapped past the top of the space
	for _, it := range items {
		if len(stack) > 0 && stack[len(stack)-1].start == it.start && stack[len(stack)-1].end == it.end {
			continue // duplicate prefix
		}
		// Close every open range that ends before this one starts.
		for len(stack) > 0 && stack[len(stack)-1].end.less(it.start) {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !done {
				emit(cur, top.end, top.val)
			}
			if top.end.isMax() {
				done = true
			}
			cur = top.end.add1()
		}
		if len(stack) > 0 && cur.less(it.start) && !done {
			emit(cur, it.start.sub1(), stack[len(stack)-1].val)
		}
		cur, done = it.start, false
		stack = append(stack, it)
	}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !done {
			emit(cur, top.end, top.val)
		}
		if top.end.isMax() {
			done = true
		}
		cur = top.end.add1()
	}
	return t
}

// unmapBits is 96 for an IPv4-mapped IPv6 prefix (::ffff:0:0/96 and below), so it is stored as
// the IPv4 prefix it is; 0 otherwise.
func unmapBits(p netip.Prefix) int {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return 96
	}
	return 0
}

// Load reads geo_prefixes into a Table.
func Load(ctx context.Context, pool *pgxpool.Pool) (*Table, error) {
	rows, err := pool.Query(ctx, "SELECT network, coalesce(asn, 0), coalesce(country, '') FROM geo_prefixes")
	if err != nil {
		return nil, fmt.Errorf("read geo_prefixes: %w", err)
	}
	defer rows.Close()
	var prefixes []Prefix
	for rows.Next() {
		var p Prefix
		if err := rows.Scan(&p.Network, &p.ASN, &p.Country); err != nil {
			return nil, fmt.Errorf("read geo_prefixes: %w", err)
		}
		prefixes = append(prefixes, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read geo_prefixes: %w", err)
	}
	return NewTable(prefixes), nil
}
