package leak

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParsePrefix(t *testing.T) {
	cases := []struct {
		in     string
		lo, hi []byte // hi nil: unbounded
	}{
		{"a", []byte{0xa0}, []byte{0xb0}},
		{"F", []byte{0xf0}, nil},
		{"fe", []byte{0xfe}, []byte{0xff}},
		{"ff", []byte{0xff}, nil},
		{"0ff", []byte{0x0f, 0xf0}, []byte{0x10, 0x00}},
		{"00000", []byte{0, 0, 0}, []byte{0, 0, 0x10}},
		{"fffff", []byte{0xff, 0xff, 0xf0}, nil},
		{"ABCDEF", []byte{0xab, 0xcd, 0xef}, []byte{0xab, 0xcd, 0xf0}},
		{strings.Repeat("f", 39) + "e", append(repeat(0xff, 19), 0xfe), append(repeat(0xff, 19), 0xff)},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			p, err := ParsePrefix(c.in)
			require.NoError(t, err)
			require.Equal(t, c.lo, p.lo)
			require.Equal(t, c.hi, p.hi)
			require.Equal(t, strings.ToLower(c.in), p.String())
		})
	}
	bad := []struct{ in, msg string }{
		{"", "want 1 to 40 hexadecimal characters, got 0"},
		{strings.Repeat("a", 41), "got 41"},
		{"abcg", "want only hexadecimal characters"},
		{"12 34", "want only hexadecimal characters"},
	}
	for _, b := range bad {
		_, err := ParsePrefix(b.in)
		require.ErrorIs(t, err, ErrInvalidPrefix, b.in)
		require.ErrorContains(t, err, b.msg)
	}
}

func repeat(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func TestHashes(t *testing.T) {
	h := HashPassword("password")
	require.Equal(t, "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8", h.String())
	back, err := ParseHash("5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8")
	require.NoError(t, err)
	require.Equal(t, h, back)
	for _, in := range []string{"", "5baa", strings.Repeat("z", 40)} {
		_, err := ParseHash(in)
		require.ErrorIs(t, err, ErrInvalidHash)
	}
	js, err := json.Marshal(Record{Hash: h, Count: 3})
	require.NoError(t, err)
	require.JSONEq(t, `{"hash":"5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8","count":3,"sources":[]}`, string(js))
}

func TestPad(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	real := []string{strings.Repeat("A", 35) + ":7", strings.Repeat("0", 35) + ":1"}
	for range 20 {
		got := Pad(real, rnd)
		require.GreaterOrEqual(t, len(got), PadMin)
		require.LessOrEqual(t, len(got), PadMax)
		require.IsNonDecreasing(t, got)
		zero := 0
		for _, l := range got {
			suffix, count, ok := strings.Cut(l, ":")
			require.True(t, ok)
			require.Len(t, suffix, 35)
			require.Len(t, count, PadCountWidth, "every line is as long as the others")
			require.Equal(t, strings.ToUpper(suffix), suffix)
			if count == strings.Repeat("0", PadCountWidth) {
				zero++
			}
		}
		require.Equal(t, len(got)-len(real), zero)
		require.Subset(t, got, []string{strings.Repeat("A", 35) + ":0000000007", strings.Repeat("0", 35) + ":0000000001"})
	}
	big := make([]string, PadMax+5)
	for i := range big {
		big[i] = strings.Repeat("B", 34) + string("0123456789ABCDEF"[i%16]) + ":1"
	}
	require.Len(t, Pad(big, rnd), len(big), "never adds past a full response")
}
