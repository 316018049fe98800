package leak

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// PadPoolSize is the number of padding lines a PadPool draws from: enough that two padded
// answers share only a part of their padding, few enough that one pass over them is cheap.
const PadPoolSize = 4096

// PaddedLineLen is the length of every line of a padded answer, CRLF included.
const PaddedLineLen = suffixLen + 1 + PadCountWidth + 2

const suffixLen = 40 - RangePrefixLen

// PadPool is a sorted set of random suffixes, rendered once as padding lines with count 0, from
// which padded answers are built without hashing, sorting or allocating per line.
type PadPool struct {
	lines []byte // PadPoolSize lines of PaddedLineLen bytes, sorted
}

// NewPadPool draws a new pool. The runtime's generator (ChaCha8, seeded by the system) picks the
// suffixes and, per answer, which of them pad it.
func NewPadPool() *PadPool {
	const digits = "0123456789ABCDEF"
	seen := make(map[string]bool, PadPoolSize)
	suffixes := make([]string, 0, PadPoolSize)
	var buf [suffixLen]byte
	for len(suffixes) < PadPoolSize {
		for i := range buf {
			buf[i] = digits[rand.IntN(16)] // #nosec G404 -- ChaCha8, seeded by the system
		}
		if s := string(buf[:]); !seen[s] {
			seen[s] = true
			suffixes = append(suffixes, s)
		}
	}
	slices.Sort(suffixes)
	p := &PadPool{lines: make([]byte, 0, PadPoolSize*PaddedLineLen)}
	for _, s := range suffixes {
		p.lines = append(p.lines, s...)
		p.lines = append(p.lines, ':')
		p.lines = append(p.lines, bytes.Repeat([]byte{'0'}, PadCountWidth)...)
		p.lines = append(p.lines, "\r\n"...)
	}
	return p
}

// AppendPadded appends to dst the answer to "Add-Padding: true" for body, an unpadded answer
// ("SUFFIX:COUNT\r\n" lines sorted by suffix): the same semantics as Pad. Real lines are kept,
// their counts written PadCountWidth digits wide, and padding lines with count 0 are merged in,
// in order, until the answer holds between PadMin and PadMax lines (or only the real ones, when
// there are more). The padding is a uniformly random subset of the pool, chosen in one pass
// (selection sampling), so the result comes out sorted.
func (p *PadPool) AppendPadded(dst, body []byte) []byte {
	n := bytes.Count(body, []byte{'\n'})
	need := max(n, PadMin+rand.IntN(PadMax-PadMin+1)) - n // #nosec G404 -- ChaCha8, seeded by the system
	// One draw from the runtime's generator seeds a wyrand stream for this answer: the choice
	// only has to look random, and 4096 ChaCha8 draws per answer would cost more than the rest.
	state, draws := rand.Uint64(), uint64(0) // #nosec G404 -- ChaCha8, seeded by the system
	for k := 0; k < PadPoolSize && need > 0; k++ {
		// Two 32-bit draws per 64-bit number; r*remaining>>32 is a draw in [0, remaining).
		if k%2 == 0 {
			state += 0xa0761d6478bd642f
			hi, lo := bits.Mul64(state, state^0xe7037ed1a0b428db)
			draws = hi ^ lo
		}
		r := uint32(draws)
		draws >>= 32
		if (uint64(r)*uint64(PadPoolSize-k))>>32 >= uint64(need) {
			continue
		}
		line := p.lines[k*PaddedLineLen : (k+1)*PaddedLineLen]
		c := -1
		for len(body) > 0 {
			if c = compareSuffix(body, line); c >= 0 {
				break
			}
			dst, body = appendPaddedLine(dst, body)
		}
		// A pool suffix that is a real hash is skipped; a later pool line takes its place.
		if c == 0 {
			continue
		}
		dst = append(dst, line...)
		need--
	}
	for len(body) > 0 {
		dst, body = appendPaddedLine(dst, body)
	}
	return dst
}

// compareSuffix orders two lines by suffix, most often by their first eight characters alone.
func compareSuffix(a, b []byte) int {
	if x, y := binary.BigEndian.Uint64(a), binary.BigEndian.Uint64(b); x != y {
		if x < y {
			return -1
		}
		return 1
	}
	return bytes.Compare(a[:suffixLen], b[:suffixLen])
}

// appendPaddedLine moves the first line of body to dst with its count zero-filled.
func appendPaddedLine(dst, body []byte) ([]byte, []byte) {
	end := bytes.IndexByte(body, '\n')
	count := body[suffixLen+1 : end-1]
	dst = append(dst, body[:suffixLen+1]...)
	for i := len(count); i < PadCountWidth; i++ {
		dst = append(dst, '0')
	}
	dst = append(dst, count...)
	dst = append(dst, "\r\n"...)
	return dst, body[end+1:]
}
