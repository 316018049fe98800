package leak

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

const selectRecord = `SELECT hash, count, sources::text[] FROM passwords_pwned `

// ByPrefix returns every record whose hash starts with prefix (1 to 40 hex characters), sorted
// by hash. It is a range scan on the primary key; short prefixes match a large share of the
// table (one hex character is 1/16 of it), so public callers should require 5 or more.
func ByPrefix(ctx context.Context, q Querier, prefix string) ([]Record, error) {
	p, err := ParsePrefix(prefix)
	if err != nil {
		return nil, err
	}
	var rows pgx.Rows
	if p.hi == nil {
		rows, err = q.Query(ctx, selectRecord+`WHERE hash >= $1 ORDER BY hash`, p.lo)
	} else {
		rows, err = q.Query(ctx, selectRecord+`WHERE hash >= $1 AND hash < $2 ORDER BY hash`, p.lo, p.hi)
	}
	if err != nil {
		return nil, fmt.Errorf("look up hash prefix %s: %w", p, err)
	}
	recs, err := pgx.CollectRows(rows, scanRecord)
	if err != nil {
		return nil, fmt.Errorf("look up hash prefix %s: %w", p, err)
	}
	return recs, nil
}

// BySHA1 returns the record of one hash given as 40 hex characters; found is false when the
// hash is not in the table.
func BySHA1(ctx context.Context, q Querier, sha1Hex string) (rec Record, found bool, err error) {
	h, err := ParseHash(sha1Hex)
	if err != nil {
		return Record{}, false, err
	}
	return byHash(ctx, q, h)
}

// ByPassword hashes password and looks it up. Prefer BySHA1 or ByPrefix in anything that
// receives passwords from the public.
func ByPassword(ctx context.Context, q Querier, password string) (rec Record, found bool, err error) {
	return byHash(ctx, q, HashPassword(password))
}

func byHash(ctx context.Context, q Querier, h Hash) (Record, bool, error) {
	rows, err := q.Query(ctx, selectRecord+`WHERE hash = $1`, h[:])
	if err != nil {
		return Record{}, false, fmt.Errorf("look up hash %s: %w", h, err)
	}
	rec, err := pgx.CollectExactlyOneRow(rows, scanRecord)
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("look up hash %s: %w", h, err)
	}
	return rec, true, nil
}

func scanRecord(row pgx.CollectableRow) (Record, error) {
	var (
		r    Record
		hash []byte
	)
	if err := row.Scan(&hash, &r.Count, &r.Sources); err != nil {
		return r, err
	}
	if len(hash) != len(r.Hash) {
		return r, fmt.Errorf("stored hash has %d bytes, want %d", len(hash), len(r.Hash))
	}
	copy(r.Hash[:], hash)
	return r, nil
}

// RangePrefixLen is the prefix length of the Have I Been Pwned range API.
const RangePrefixLen = 5

// Range answers the Have I Been Pwned range API for a 5-hex prefix: one "SUFFIX:COUNT" line per
// hash with that prefix, the 35-character suffix in uppercase, sorted by suffix.
func Range(ctx context.Context, q Querier, prefix5 string) ([]string, error) {
	if len(prefix5) != RangePrefixLen {
		return nil, fmt.Errorf("%w %q: the range API wants exactly %d hexadecimal characters, got %d",
			ErrInvalidPrefix, clip(prefix5), RangePrefixLen, len(prefix5))
	}
	recs, err := ByPrefix(ctx, q, prefix5)
	if err != nil {
		return nil, err
	}
	lines := make([]string, len(recs))
	for i, r := range recs {
		lines[i] = rangeLine(strings.ToUpper(r.Hash.String()[RangePrefixLen:]), r.Count)
	}
	return lines, nil
}

func rangeLine(suffix string, count int64) string {
	return suffix + ":" + strconv.FormatInt(count, 10)
}

// Padding bounds: like Have I Been Pwned, a padded response holds a random number of lines
// between these, so its size does not reveal how many real hashes share the prefix.
const (
	PadMin = 800
	PadMax = 1000
)

// PadCountWidth is the width every count of a padded response is written in, with leading
// zeros (clients parse it as a number): lines of one length, so the response's size tells only
// its line count, never which counts the prefix holds.
const PadCountWidth = 10

// Pad answers a request with "Add-Padding: true": it adds random suffixes with count 0 until
// the response holds between PadMin and PadMax lines (never removing real ones), writes every
// count PadCountWidth digits wide, and sorts the result so padding lines cannot be told apart
// by position. Clients must ignore count 0.
func Pad(lines []string, rnd *rand.Rand) []string {
	target := max(len(lines), PadMin+rnd.IntN(PadMax-PadMin+1))
	seen := make(map[string]bool, target)
	out := make([]string, 0, target)
	for _, l := range lines {
		suffix, count, _ := strings.Cut(l, ":")
		seen[suffix] = true
		out = append(out, suffix+":"+strings.Repeat("0", max(0, PadCountWidth-len(count)))+count)
	}
	const digits = "0123456789ABCDEF"
	var buf [35]byte
	for len(out) < target {
		for i := range buf {
			buf[i] = digits[rnd.IntN(16)]
		}
		if s := string(buf[:]); !seen[s] {
			seen[s] = true
			out = append(out, s+":"+strings.Repeat("0", PadCountWidth))
		}
	}
	slices.Sort(out)
	return out
}
