package leak

import (
	"strings"
	"testing"

	"github.com/sview-project/sview/internal/sentinel"
)

// fuzzScan reads in with opts and checks the scanner's promises: no panic, counts in range,
// known sources, bad lines numbered inside the file and with a message.
func fuzzScan(t *testing.T, in string, opts ScanOptions, minCount int64) {
	sc, err := NewScanner(strings.NewReader(in), opts)
	if err != nil {
		if err.Error() == "" {
			t.Fatal("empty error message")
		}
		return
	}
	for sc.Scan() {
		e := sc.Entry()
		if e.Count < minCount {
			t.Fatalf("accepted count %d", e.Count)
		}
		for _, s := range e.Sources {
			if !sentinel.Valid(sentinel.Sources, s) {
				t.Fatalf("accepted source %q", s)
			}
		}
		if sc.Format() == FormatHIBP && !strings.HasPrefix(e.Hash.String(), strings.ToLower(opts.Prefix)) {
			t.Fatalf("hash %s lost the prefix %s", e.Hash, opts.Prefix)
		}
	}
	lines := strings.Count(in, "\n") + 1
	for _, b := range sc.Bad().Lines() {
		if b.Number < 1 || b.Number > int64(lines) || b.Err == nil || b.Error() == "" {
			t.Fatalf("bad line report %+v outside 1..%d or without a message", b, lines)
		}
	}
	if sc.Bad().Count() < int64(len(sc.Bad().Lines())) {
		t.Fatalf("%d bad lines counted, %d kept", sc.Bad().Count(), len(sc.Bad().Lines()))
	}
}

func FuzzCSV(f *testing.F) {
	f.Add("count,password,sources\n5,password,\"telnet,ftp\"\n")
	f.Add("7,\"a,b\",smtp;http\n2, x ,\n")
	f.Add("0,zero,telnet\n3,\"open\n")
	f.Fuzz(func(t *testing.T, in string) {
		fuzzScan(t, in, ScanOptions{Format: FormatCSV}, 1)
	})
}

func FuzzHIBP(f *testing.F) {
	f.Add("00D4F6E8FA6EECAD2A3AA415EEC418D38EC:5\r\n011053FD0102E94D6AE2F8B83D76FAF94F6:0\n", "0A1B2")
	f.Add("0A1B:3\n:\n", "fffff")
	f.Add("012A7CA357541F0AC487871FEEC1891C49C:-1\n", "00000")
	f.Fuzz(func(t *testing.T, in, prefix string) {
		fuzzScan(t, in, ScanOptions{Format: FormatHIBP, Prefix: prefix}, 1)
		fuzzScan(t, in, ScanOptions{Prefix: prefix}, 1) // detection
	})
}

func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"", "a", "fffff", "00000", strings.Repeat("f", 40), "xyz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrefix(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		// Every hash starting with the prefix lies in [lo, hi).
		var lo, hi Hash
		copy(lo[:], p.lo)
		for i := range hi {
			hi[i] = 0xff
		}
		h, err := ParseHash(p.String() + strings.Repeat("0", 40-p.Len()))
		if err != nil || h != lo {
			t.Fatalf("prefix %q: lo %x, want %x (%v)", s, p.lo, h, err)
		}
		h, _ = ParseHash(p.String() + strings.Repeat("f", 40-p.Len()))
		if p.hi != nil && string(h[:]) >= string(p.hi) {
			t.Fatalf("prefix %q: %x is not below hi %x", s, h, p.hi)
		}
	})
}
