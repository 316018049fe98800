// Package geo maps IP addresses to countries and autonomous systems: it reads the iptoasn TSV
// format into the geo_prefixes table and answers lookups from an in-memory copy of that table.
package geo

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/sview-project/sview/internal/badline"
)

// Record is one line of an iptoasn file: an inclusive address range announced by an autonomous
// system. Country is empty when the file has none; Name may be empty.
type Record struct {
	Start, End netip.Addr
	ASN        int32
	Country    string
	Name       string
}

// errNotRouted marks lines that say "no data" (AS 0, "Not routed"): skipped, never bad.
var errNotRouted = errors.New("not routed")

// ParseRecord parses one iptoasn line: range_start, range_end, AS_number, country_code,
// AS_description, separated by tabs. Lines for AS 0 return errNotRouted.
func ParseRecord(line string) (Record, error) {
	f := strings.SplitN(line, "\t", 5)
	if len(f) < 3 {
		return Record{}, fmt.Errorf("want 5 tab-separated fields, got %d", len(f))
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	var r Record
	var err error
	if r.Start, err = netip.ParseAddr(f[0]); err != nil {
		return Record{}, fmt.Errorf("range start %q is not an IP address", f[0])
	}
	if r.End, err = netip.ParseAddr(f[1]); err != nil {
		return Record{}, fmt.Errorf("range end %q is not an IP address", f[1])
	}
	r.Start, r.End = r.Start.Unmap(), r.End.Unmap()
	if r.Start.Zone() != "" || r.End.Zone() != "" {
		return Record{}, errors.New("addresses with a zone are not allowed")
	}
	if r.Start.Is4() != r.End.Is4() {
		return Record{}, errors.New("range start and end are of different families")
	}
	if r.End.Less(r.Start) {
		return Record{}, fmt.Errorf("range end %s is before its start %s", r.End, r.Start)
	}
	asText := strings.TrimPrefix(strings.TrimPrefix(f[2], "AS"), "as")
	asn, err := strconv.ParseUint(asText, 10, 64)
	if err != nil {
		return Record{}, fmt.Errorf("AS number %q is not a number", f[2])
	}
	if asn == 0 {
		return Record{}, errNotRouted
	}
	if asn > math.MaxInt32 {
		// The schema keeps the original INTEGER column; only private-use ASNs are this large.
		return Record{}, fmt.Errorf("AS number %d does not fit the asn column (private-use range)", asn)
	}
	r.ASN = int32(asn)
	if len(f) > 3 {
		cc := strings.ToUpper(f[3])
		switch {
		case cc == "" || cc == "NONE" || cc == "UNKNOWN" || cc == "-" || cc == "ZZ":
		case len(cc) == 2 && isAlpha(cc):
			r.Country = cc
		default:
			return Record{}, fmt.Errorf("country code %q is not two letters", f[3])
		}
	}
	if len(f) > 4 {
		r.Name = f[4]
		if strings.EqualFold(r.Name, "Not routed") || r.Name == "None" {
			r.Name = ""
		}
	}
	return r, nil
}

func isAlpha(s string) bool {
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// ParseStats counts what a parse saw.
type ParseStats struct {
	Lines     int64 // every line read, blank ones included
	OK        int64 // records handed to the callback
	NotRouted int64 // AS 0 lines
	Bad       int64
	BadLines  []badline.Line // the first maxBad bad lines
}

// Parse reads an iptoasn file (plain or gzip-compressed) and calls fn for every usable record.
// Bad lines are counted and the first maxBad of them (badline.DefaultKeep when 0) kept with their
// numbers; they never stop the parse. Only read errors and errors returned by fn end it.
func Parse(r io.Reader, maxBad int, fn func(line int64, rec Record) error) (st ParseStats, err error) {
	bad := badline.NewCollector(maxBad)
	defer func() { st.Bad, st.BadLines = bad.Count(), bad.Lines() }()
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return st, fmt.Errorf("open gzip stream: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		st.Lines++
		text := sc.Bytes()
		if len(bytes.TrimSpace(text)) == 0 || text[0] == '#' {
			continue
		}
		rec, err := ParseRecord(strings.TrimRight(string(text), "\r"))
		switch {
		case errors.Is(err, errNotRouted):
			st.NotRouted++
			continue
		case err != nil:
			bad.Add(st.Lines, err)
			continue
		}
		if err := fn(st.Lines, rec); err != nil {
			if errors.As(err, new(badRecord)) {
				bad.Add(st.Lines, err)
				continue
			}
			return st, err
		}
		st.OK++
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("read line %d: %w", st.Lines+1, err)
	}
	return st, nil
}

// badRecord lets a Parse callback reject a parsed record as a bad line without ending the parse.
type badRecord struct{ reason string }

func (b badRecord) Error() string { return b.reason }
