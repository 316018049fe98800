package leak

import (
	"bufio"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sview-project/sview/internal/badline"
	"github.com/sview-project/sview/internal/sentinel"
)

// Format is the layout of a leaked-password file.
type Format string

const (
	// FormatAuto picks FormatHIBP when the first data line looks like "SUFFIX:COUNT", else FormatCSV.
	FormatAuto Format = ""
	// FormatCSV is `count,password,sources` with an optional header line; sources is a list of
	// data sources separated by commas (then the field is quoted) or semicolons, or empty.
	FormatCSV Format = "csv"
	// FormatHIBP is a Have I Been Pwned range file: `SUFFIX:COUNT` lines, the 35-hex suffix
	// completing a 5-hex prefix that comes from the file name or the caller.
	FormatHIBP Format = "hibp"
)

// Formats are the explicit formats, for flag help and errors.
var Formats = []Format{FormatCSV, FormatHIBP}

// ParseFormat accepts "", "auto", "csv" and "hibp".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return FormatAuto, nil
	case "csv":
		return FormatCSV, nil
	case "hibp":
		return FormatHIBP, nil
	}
	return "", fmt.Errorf("format %q: want auto, csv or hibp", s)
}

// Entry is one good line of an import file.
type Entry struct {
	Hash    Hash
	Count   int64
	Sources []string
}

// MaxLineBytes bounds one line; a longer one ends the import with an error naming the line.
const MaxLineBytes = 1 << 20

// MaxKeptErrors bounds how many bad lines a Scanner keeps; all of them are counted.
const MaxKeptErrors = 1000

// Scanner reads the good entries of a leaked-password file one at a time and records the bad
// lines with their numbers.
type Scanner struct {
	sc      *bufio.Scanner
	format  Format
	prefix  string // lowercase 5 hex, for FormatHIBP
	line    int
	entry   Entry
	header  bool // the first data line has been seen
	bad     *badline.Collector
	padding int
	err     error
}

// ScanOptions choose the format; Prefix is required for HIBP files (see PrefixFromFileName).
type ScanOptions struct {
	Format Format
	Prefix string
}

// NewScanner prepares to read r. With FormatAuto it peeks at the first data line to choose.
func NewScanner(r io.Reader, opts ScanOptions) (*Scanner, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	format := opts.Format
	if format == FormatAuto {
		var err error
		if format, err = detect(br); err != nil {
			return nil, err
		}
	}
	s := &Scanner{sc: bufio.NewScanner(br), format: format, bad: badline.NewCollector(MaxKeptErrors)}
	s.sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	if format == FormatHIBP {
		if len(opts.Prefix) != RangePrefixLen {
			return nil, fmt.Errorf("HIBP range file needs its %d-hex prefix (from a file name like ABCDE.txt or --prefix), got %q",
				RangePrefixLen, clip(opts.Prefix))
		}
		if _, err := ParsePrefix(opts.Prefix); err != nil {
			return nil, err
		}
		s.prefix = strings.ToLower(opts.Prefix)
	}
	return s, nil
}

// detect looks at the first line that is neither empty nor a comment.
func detect(br *bufio.Reader) (Format, error) {
	buf, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("read file: %w", err)
	}
	for line := range strings.Lines(string(buf)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if suffix, _, ok := strings.Cut(line, ":"); ok && len(suffix) == 35 && isHex(suffix) {
			return FormatHIBP, nil
		}
		return FormatCSV, nil
	}
	return FormatCSV, nil
}

// PrefixFromFileName takes the prefix of an HIBP range file named like "ABCDE.txt" or "abcde".
func PrefixFromFileName(path string) (string, bool) {
	base := filepath.Base(path)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	if len(base) == RangePrefixLen && isHex(base) {
		return strings.ToLower(base), true
	}
	return "", false
}

// Format is the format being read (after detection).
func (s *Scanner) Format() Format { return s.format }

// Scan advances to the next good entry, recording bad lines on the way; false at the end or on
// a read error (see Err).
func (s *Scanner) Scan() bool {
	for s.sc.Scan() {
		s.line++
		line := strings.TrimSuffix(s.sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		first := !s.header
		s.header = true
		var (
			e    Entry
			keep bool
			err  error
		)
		if s.format == FormatHIBP {
			e, keep, err = s.parseHIBP(line)
		} else {
			e, keep, err = parseCSV(line, first)
		}
		if err != nil {
			s.bad.Add(int64(s.line), err)
			continue
		}
		if keep {
			s.entry = e
			return true
		}
	}
	if err := s.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			s.err = fmt.Errorf("line %d: longer than %d bytes", s.line+1, MaxLineBytes)
		} else {
			s.err = fmt.Errorf("read line %d: %w", s.line+1, err)
		}
	}
	return false
}

// Entry is the entry Scan stopped at.
func (s *Scanner) Entry() Entry { return s.entry }

// Err is the read error that ended scanning, if any; bad lines are not errors.
func (s *Scanner) Err() error { return s.err }

// Lines is the number of lines read so far.
func (s *Scanner) Lines() int { return s.line }

// Bad holds the bad lines: all counted, the first MaxKeptErrors kept.
func (s *Scanner) Bad() *badline.Collector { return s.bad }

// Padding is the number of HIBP padding lines (count 0) skipped.
func (s *Scanner) Padding() int { return s.padding }

func (s *Scanner) parseHIBP(line string) (Entry, bool, error) {
	suffix, countText, ok := strings.Cut(strings.TrimSpace(line), ":")
	if !ok {
		return Entry{}, false, fmt.Errorf("%q: want SUFFIX:COUNT", clip(line))
	}
	if len(suffix) != 35 || !isHex(suffix) {
		return Entry{}, false, fmt.Errorf("suffix %q: want 35 hexadecimal characters", clip(suffix))
	}
	count, err := strconv.ParseInt(countText, 10, 64)
	if err != nil || count < 0 {
		return Entry{}, false, fmt.Errorf("count %q: want a whole number of 0 or more", clip(countText))
	}
	if count == 0 { // padding of an Add-Padding response
		s.padding++
		return Entry{}, false, nil
	}
	h, err := ParseHash(s.prefix + suffix)
	if err != nil {
		return Entry{}, false, err
	}
	return Entry{Hash: h, Count: count}, true, nil
}

func parseCSV(line string, first bool) (Entry, bool, error) {
	r := csv.NewReader(strings.NewReader(line))
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return Entry{}, false, fmt.Errorf("not valid CSV: %w", err)
	}
	if first && len(fields) == 3 && strings.EqualFold(fields[0], "count") &&
		strings.EqualFold(fields[1], "password") && strings.EqualFold(fields[2], "sources") {
		return Entry{}, false, nil
	}
	if len(fields) != 2 && len(fields) != 3 {
		return Entry{}, false, fmt.Errorf("%d fields: want count,password,sources", len(fields))
	}
	count, err := strconv.ParseInt(strings.TrimSpace(fields[0]), 10, 64)
	if err != nil || count <= 0 {
		return Entry{}, false, fmt.Errorf("count %q: want a whole number of 1 or more", clip(fields[0]))
	}
	var sources []string
	if len(fields) == 3 {
		if sources, err = parseSources(fields[2]); err != nil {
			return Entry{}, false, err
		}
	}
	return Entry{Hash: HashPassword(fields[1]), Count: count, Sources: sources}, true, nil
}

// parseSources reads a comma- or semicolon-separated list of data sources.
func parseSources(s string) ([]string, error) {
	var out []string
	for f := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == ';' }) {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		if !sentinel.Valid(sentinel.Sources, f) {
			return nil, fmt.Errorf("source %q: want one of %s", clip(f), strings.Join(sentinel.Sources, ", "))
		}
		out = append(out, f)
	}
	return out, nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s + strings.Repeat("0", len(s)%2))
	return err == nil
}
