package greylist

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzScanner feeds arbitrary files to the greylist reader: it must never panic, every entry it
// accepts must be valid and survive an export and re-import unchanged, and every bad line must
// carry a line number inside the file and a message.
func FuzzScanner(f *testing.F) {
	f.Add("Address,Tags\n1.2.3.4,\"ftp,http\"\n")
	f.Add("# c\nAddress,Country,Tags,ASN\n1.9.165.178,MY,\"samba,torrent\",4788\n")
	f.Add("Address,Tags\n\"1.2.3.4\nbad\n")
	f.Fuzz(func(t *testing.T, in string) {
		sc := NewScanner(strings.NewReader(in))
		var got []Entry
		for sc.Scan() {
			e := sc.Entry()
			if !e.IP.IsValid() || e.IP.Zone() != "" {
				t.Fatalf("accepted invalid address %v", e.IP)
			}
			for _, tag := range e.Tags {
				if !tagPattern.MatchString(tag) {
					t.Fatalf("accepted invalid tag %q", tag)
				}
			}
			got = append(got, e)
		}
		if err := sc.Err(); err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
		lines := strings.Count(in, "\n") + 1
		for _, b := range sc.Bad().Lines() {
			if b.Number < 1 || b.Number > int64(lines) || b.Err == nil || b.Error() == "" {
				t.Fatalf("bad line report %+v outside 1..%d or without a message", b, lines)
			}
		}
		// Round trip of the addresses and tags the reader accepted.
		var buf bytes.Buffer
		if err := WriteCSV(&buf, got); err != nil {
			t.Fatal(err)
		}
		back := NewScanner(&buf)
		n := 0
		for back.Scan() {
			n++
		}
		if back.Err() != nil || back.Bad().Count() != 0 || n != len(got) {
			t.Fatalf("re-reading the export: %d of %d entries, %d bad, err %v", n, len(got), back.Bad().Count(), back.Err())
		}
	})
}
