package geo

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// u128 is an address in the IPv6 space; IPv4 addresses live at ::ffff:a.b.c.d, so one sorted
// table holds both families.
type u128 struct{ hi, lo uint64 }

func fromAddr(a netip.Addr) u128 {
	b := a.As16()
	var x u128
	for i := 0; i < 8; i++ {
		x.hi = x.hi<<8 | uint64(b[i])
		x.lo = x.lo<<8 | uint64(b[8+i])
	}
	return x
}

func (x u128) addr() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], x.hi)
	binary.BigEndian.PutUint64(b[8:], x.lo)
	return netip.AddrFrom16(b)
}

func (x u128) less(y u128) bool { return x.hi < y.hi || (x.hi == y.hi && x.lo < y.lo) }

func (x u128) lessEq(y u128) bool { return !y.less(x) }

func (x u128) isMax() bool { return x.hi == ^uint64(0) && x.lo == ^uint64(0) }

func (x u128) add1() u128 {
	lo, carry := bits.Add64(x.lo, 1, 0)
	return u128{x.hi + carry, lo}
}

func (x u128) sub1() u128 {
	lo, borrow := bits.Sub64(x.lo, 1, 0)
	return u128{x.hi - borrow, lo}
}

func (x u128) or(y u128) u128 { return u128{x.hi | y.hi, x.lo | y.lo} }

// lowMask has the lowest k bits set.
func lowMask(k int) u128 {
	switch {
	case k <= 0:
		return u128{}
	case k < 64:
		return u128{0, 1<<uint(k) - 1}
	case k == 64:
		return u128{0, ^uint64(0)}
	case k < 128:
		return u128{1<<uint(k-64) - 1, ^uint64(0)}
	}
	return u128{^uint64(0), ^uint64(0)}
}

func (x u128) trailingZeros() int {
	if x.lo != 0 {
		return bits.TrailingZeros64(x.lo)
	}
	if x.hi != 0 {
		return 64 + bits.TrailingZeros64(x.hi)
	}
	return 128
}

// prefixRange returns the first and last address of p in the unified space.
func prefixRange(p netip.Prefix) (u128, u128) {
	p = p.Masked()
	first := fromAddr(p.Addr())
	hostBits := p.Addr().BitLen() - p.Bits()
	return first, first.or(lowMask(hostBits))
}

// RangeToPrefixes splits the inclusive range [start, end] of one family into the fewest CIDR
// prefixes that cover it exactly, in ascending order. It returns nil when the range is empty or
// mixes families.
func RangeToPrefixes(start, end netip.Addr) []netip.Prefix {
	start, end = start.Unmap(), end.Unmap()
	if !start.IsValid() || !end.IsValid() || start.Is4() != end.Is4() || end.Less(start) {
		return nil
	}
	width := start.BitLen()
	s, e := fromAddr(start), fromAddr(end)
	var out []netip.Prefix
	for {
		k := min(s.trailingZeros(), width)
		for k > 0 && !s.or(lowMask(k)).lessEq(e) {
			k--
		}
		a := s.addr()
		if width == 32 {
			a = a.Unmap()
		}
		out = append(out, netip.PrefixFrom(a, width-k))
		last := s.or(lowMask(k))
		if last == e || last.isMax() {
			return out
		}
		s = last.add1()
	}
}
