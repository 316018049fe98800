package greylist

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/sview-project/sview/internal/badline"
)

// Comment is the first line of an exported list, as in the Turris greylist files.
const Comment = "# For the terms of use see https://view.sentinel.turris.cz/greylist-data/LICENSE.txt"

// WriteCSV writes entries in the Turris format: the Comment line, the header `Address,Tags`,
// then one `IP,tags` row per entry sorted by address, several tags being one quoted comma
// list (`1.2.3.4,"ftp,http,port_scan"`).
func WriteCSV(w io.Writer, entries []Entry) error {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b Entry) int { return a.IP.Compare(b.IP) })
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString(Comment + "\n"); err != nil {
		return fmt.Errorf("write greylist CSV: %w", err)
	}
	cw := csv.NewWriter(bw)
	if err := cw.Write([]string{"Address", "Tags"}); err != nil {
		return fmt.Errorf("write greylist CSV: %w", err)
	}
	for _, e := range sorted {
		tags := slices.Clone(e.Tags)
		slices.Sort(tags)
		if err := cw.Write([]string{e.IP.String(), strings.Join(tags, ",")}); err != nil {
			return fmt.Errorf("write greylist CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write greylist CSV: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write greylist CSV: %w", err)
	}
	return nil
}

// Layout of an imported greylist file, chosen by its header line.
type Layout string

const (
	LayoutCurrent Layout = "Address,Tags"
	LayoutLegacy  Layout = "Address,Country,Tags,ASN"
)

// Limits of the reader: a longer line ends the import with an error naming it; at most
// MaxKeptErrors bad lines are kept (all are counted).
const (
	MaxLineBytes  = 64 << 10
	MaxKeptErrors = 1000
)

// ErrNoHeader means the file does not start (after comments) with a known header.
var ErrNoHeader = errors.New("no greylist header")

// Scanner reads the good entries of a greylist file in either layout and records bad lines.
// Comment lines (`#`) and blank lines are allowed anywhere.
type Scanner struct {
	sc     *bufio.Scanner
	layout Layout
	line   int
	entry  Entry
	bad    *badline.Collector
	err    error
}

// NewScanner prepares to read r; the layout is detected from the header on the first Scan.
func NewScanner(r io.Reader) *Scanner {
	s := &Scanner{sc: bufio.NewScanner(r), bad: badline.NewCollector(MaxKeptErrors)}
	s.sc.Buffer(make([]byte, 0, 4096), MaxLineBytes)
	return s
}

// Scan advances to the next good entry; false at the end or on a fatal error (see Err).
func (s *Scanner) Scan() bool {
	if s.err != nil {
		return false
	}
	for s.sc.Scan() {
		s.line++
		line := strings.TrimSuffix(s.sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if s.layout == "" {
			if s.layout = detectLayout(line); s.layout == "" {
				s.err = fmt.Errorf("%w: line %d is %q: want %q or %q", ErrNoHeader, s.line, clip(line), LayoutCurrent, LayoutLegacy)
				return false
			}
			continue
		}
		e, err := parseLine(line, s.layout)
		if err != nil {
			s.bad.Add(int64(s.line), err)
			continue
		}
		s.entry = e
		return true
	}
	if err := s.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			s.err = fmt.Errorf("line %d: longer than %d bytes", s.line+1, MaxLineBytes)
		} else {
			s.err = fmt.Errorf("read line %d: %w", s.line+1, err)
		}
	} else if s.layout == "" {
		s.err = fmt.Errorf("%w: the file has no data lines", ErrNoHeader)
	}
	return false
}

// Entry is the entry Scan stopped at.
func (s *Scanner) Entry() Entry { return s.entry }

// Err is the error that ended scanning early (no header, an over-long line, a read error).
func (s *Scanner) Err() error { return s.err }

// Layout is the detected layout ("" before the header).
func (s *Scanner) Layout() Layout { return s.layout }

// Lines is the number of lines read so far.
func (s *Scanner) Lines() int { return s.line }

// Bad holds the bad lines: all counted, the first MaxKeptErrors kept.
func (s *Scanner) Bad() *badline.Collector { return s.bad }

func detectLayout(line string) Layout {
	fields := strings.Split(line, ",")
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	for _, l := range []Layout{LayoutCurrent, LayoutLegacy} {
		if strings.EqualFold(strings.Join(fields, ","), string(l)) {
			return l
		}
	}
	return ""
}

func parseLine(line string, layout Layout) (Entry, error) {
	r := csv.NewReader(strings.NewReader(line))
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return Entry{}, fmt.Errorf("not valid CSV: %w", err)
	}
	want := strings.Count(string(layout), ",") + 1
	if len(fields) != want {
		return Entry{}, fmt.Errorf("%d fields: want %d (%s)", len(fields), want, layout)
	}
	var e Entry
	ipText, tagsText := fields[0], fields[1]
	if layout == LayoutLegacy {
		tagsText = fields[2]
		if c := strings.TrimSpace(fields[1]); c != "" {
			if !isCountry(c) {
				return Entry{}, fmt.Errorf("country %q: want a two-letter ISO code or nothing", clip(c))
			}
			e.Country = strings.ToUpper(c)
		}
		if a := strings.TrimSpace(fields[3]); a != "" {
			asn, err := strconv.ParseInt(strings.TrimPrefix(strings.ToUpper(a), "AS"), 10, 32)
			if err != nil || asn < 1 {
				return Entry{}, fmt.Errorf("ASN %q: want an AS number from 1 to 2147483647 or nothing", clip(a))
			}
			e.ASN = int(asn)
		}
	}
	if e.IP, err = netip.ParseAddr(strings.TrimSpace(ipText)); err != nil || e.IP.Zone() != "" {
		return Entry{}, fmt.Errorf("address %q: want an IPv4 or IPv6 address", clip(ipText))
	}
	e.IP = e.IP.Unmap()
	if e.Tags, err = parseTags(tagsText); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// parseTags reads a comma list of tags, lowercased, sorted and without duplicates.
func parseTags(s string) ([]string, error) {
	tags := []string{}
	for t := range strings.SplitSeq(s, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		if !tagPattern.MatchString(t) {
			return nil, fmt.Errorf("tag %q: want up to 32 lowercase letters, digits, _ or -", clip(t))
		}
		tags = append(tags, t)
	}
	slices.Sort(tags)
	return slices.Compact(tags), nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
