package leak

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// unpaddedBody renders n random sorted lines with counts 1..n as the unpadded API sends them.
func unpaddedBody(rnd *rand.Rand, n int) []byte {
	var lines []string
	for i := range n {
		var h Hash
		for j := range h {
			h[j] = byte(rnd.IntN(256))
		}
		lines = append(lines, rangeLine(strings.ToUpper(h.String()[RangePrefixLen:]), int64(i+1)))
	}
	slices.Sort(lines)
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	return b.Bytes()
}

func TestAppendPadded(t *testing.T) {
	t.Parallel()
	pool := NewPadPool()
	rnd := rand.New(rand.NewPCG(1, 2))
	// A real line whose suffix is in the pool: it must not be doubled nor shrink the answer.
	inPool := string(pool.lines[:suffixLen]) + ":7\r\n"
	bodies := map[string][]byte{
		"empty":   nil,
		"one":     unpaddedBody(rnd, 1),
		"many":    unpaddedBody(rnd, 300),
		"full":    unpaddedBody(rnd, PadMax+200),
		"in pool": []byte(inPool),
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			realLines := strings.Split(strings.TrimSuffix(string(body), "\r\n"), "\r\n")
			if len(body) == 0 {
				realLines = nil
			}
			sizes := map[int]bool{}
			for range 50 {
				out := pool.AppendPadded(nil, body)
				require.Zero(t, len(out)%PaddedLineLen, "every line has one length")
				lines := strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n")
				require.Len(t, lines, len(out)/PaddedLineLen)
				if len(realLines) > PadMax {
					require.Len(t, lines, len(realLines), "real lines are never dropped, no padding is added")
				} else {
					require.GreaterOrEqual(t, len(lines), PadMin)
					require.LessOrEqual(t, len(lines), PadMax)
				}
				sizes[len(lines)] = true
				require.True(t, slices.IsSorted(lines), "padding cannot be told apart by position")
				require.Len(t, slices.Compact(slices.Clone(lines)), len(lines), "no line twice")
				got := map[string]bool{}
				zero := 0
				for _, l := range lines {
					suffix, count, ok := strings.Cut(l, ":")
					require.True(t, ok, l)
					require.Len(t, suffix, suffixLen)
					require.Len(t, count, PadCountWidth)
					if count == strings.Repeat("0", PadCountWidth) {
						zero++
					}
					got[l] = true
				}
				for _, l := range realLines {
					suffix, count, _ := strings.Cut(l, ":")
					padded := fmt.Sprintf("%s:%0*s", suffix, PadCountWidth, count)
					require.True(t, got[padded], "real line %s kept as %s", l, padded)
				}
				require.Equal(t, len(lines)-len(realLines), zero, "every other line has count 0")
			}
			if len(realLines) <= PadMax {
				require.Greater(t, len(sizes), 5, "the size varies between answers")
			}
		})
	}
}

// AppendPadded and Pad give answers of the same form.
func TestAppendPaddedLikePad(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(3, 4))
	body := unpaddedBody(rnd, 40)
	lines := strings.Split(strings.TrimSuffix(string(body), "\r\n"), "\r\n")
	realOnly := func(ls []string) []string {
		return slices.DeleteFunc(slices.Clone(ls), func(l string) bool { return strings.HasSuffix(l, ":"+strings.Repeat("0", PadCountWidth)) })
	}
	fast := strings.Split(strings.TrimSuffix(string(NewPadPool().AppendPadded(nil, body)), "\r\n"), "\r\n")
	require.Equal(t, realOnly(Pad(lines, rnd)), realOnly(fast))
	require.Equal(t, len(Pad(lines, rnd)[0]), len(fast[0]))
}

func BenchmarkAppendPadded(b *testing.B) {
	pool := NewPadPool()
	body := unpaddedBody(rand.New(rand.NewPCG(1, 1)), 2)
	dst := make([]byte, 0, (PadMax+1)*PaddedLineLen)
	for b.Loop() {
		dst = pool.AppendPadded(dst[:0], body)
	}
	b.SetBytes(int64(len(dst)))
}
