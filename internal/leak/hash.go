// Package leak holds the leaked-password store: SHA-1 hashes of passwords seen by the probes
// or imported from breach lists (passwords_pwned), the builder that hashes captured passwords
// into it, the importers, and the k-anonymous lookups served by the plugin and `sview serve`.
package leak

import (
	"bytes"
	"context"
	"crypto/sha1" // #nosec G505 -- SHA-1 is what the HIBP range protocol and the original checker specify
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Querier is what the lookups need: a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ErrInvalidPrefix and ErrInvalidHash mark input the caller can fix; test with errors.Is.
var (
	ErrInvalidPrefix = errors.New("invalid hash prefix")
	ErrInvalidHash   = errors.New("invalid SHA-1")
)

// Hash is a SHA-1 digest.
type Hash [sha1.Size]byte

// HashPassword is the SHA-1 of the UTF-8 bytes of password, as HIBP and the original
// password checker compute it.
// #nosec G401 -- SHA-1 is the HIBP protocol's hash; it names leaked passwords, it protects nothing.
func HashPassword(password string) Hash { return sha1.Sum([]byte(password)) }

// ParseHash reads 40 hexadecimal characters, in either case.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("%w %q: want 40 hexadecimal characters, got %d characters", ErrInvalidHash, clip(s), len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w %q: want only hexadecimal characters (0-9, a-f)", ErrInvalidHash, clip(s))
	}
	return h, nil
}

// String is the lowercase hex form, as the password-check API answers it.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Prefix is a validated hash prefix of 1 to 40 hex characters, turned into the byte range
// [lo, hi) it covers so lookups are range scans on the bytea primary key.
type Prefix struct {
	text string // lowercase hex
	lo   []byte
	hi   []byte // nil: no upper bound (the prefix was all f)
}

// ParsePrefix validates a prefix of 1 to 40 hex characters, in either case.
func ParsePrefix(s string) (Prefix, error) {
	if len(s) < 1 || len(s) > 40 {
		return Prefix{}, fmt.Errorf("%w %q: want 1 to 40 hexadecimal characters, got %d", ErrInvalidPrefix, clip(s), len(s))
	}
	text := strings.ToLower(s)
	// An odd prefix is padded with a zero nibble: "abc" covers [ab c0, ab d0).
	padded := text
	if len(padded)%2 == 1 {
		padded += "0"
	}
	lo, err := hex.DecodeString(padded)
	if err != nil {
		return Prefix{}, fmt.Errorf("%w %q: want only hexadecimal characters (0-9, a-f)", ErrInvalidPrefix, clip(s))
	}
	step := byte(1)
	if len(text)%2 == 1 {
		step = 0x10
	}
	return Prefix{text: text, lo: lo, hi: increment(lo, step)}, nil
}

// increment adds step to the last byte of b as a big-endian number; nil on overflow.
func increment(b []byte, step byte) []byte {
	out := bytes.Clone(b)
	for i := len(out) - 1; i >= 0; i-- {
		sum := uint(out[i]) + uint(step)
		out[i] = byte(sum & 0xff) // the carry goes on to the next byte
		if sum <= 0xff {
			return out
		}
		step = 1
	}
	return nil
}

// String is the lowercase hex prefix.
func (p Prefix) String() string { return p.text }

// Len is the number of hex characters.
func (p Prefix) Len() int { return len(p.text) }

// Record is one row of passwords_pwned.
type Record struct {
	Hash    Hash
	Count   int64
	Sources []string // values of sentinel.Sources, in enum order
}

// MarshalJSON gives the shape of the original password-check API: {"hash", "count", "sources"}
// with the hash in lowercase hex.
func (r Record) MarshalJSON() ([]byte, error) {
	sources := r.Sources
	if sources == nil {
		sources = []string{}
	}
	return json.Marshal(struct {
		Hash    string   `json:"hash"`
		Count   int64    `json:"count"`
		Sources []string `json:"sources"`
	}{r.Hash.String(), r.Count, sources})
}

// clip keeps error messages short when the input is huge.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
