package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Probe is the identity of one probe: its serial number (the MQTT client id) and device token.
type Probe struct {
	SN    string
	Token string
}

// ValidateProbe checks what the identity table can hold: a serial number of 1–16 printable
// characters and a device token of 64 lowercase hex characters. The CRC32 in the token's last
// four bytes is not checked: the proxy does that before a message reaches us.
func ValidateProbe(p Probe) error {
	if p.SN == "" {
		return errors.New("sn is missing")
	}
	if len(p.SN) > 16 {
		return fmt.Errorf("sn %q is longer than 16 characters", p.SN)
	}
	for _, c := range p.SN {
		if c <= ' ' || c > '~' {
			return fmt.Errorf("sn %q has a character other than printable ASCII", p.SN)
		}
	}
	if !ValidToken(p.Token) {
		if p.Token == "" {
			return errors.New("device_token is missing")
		}
		return fmt.Errorf("device_token %q is not 64 lowercase hex characters", truncate(p.Token, 80))
	}
	return nil
}

// ValidToken reports whether s is 64 lowercase hex characters.
func ValidToken(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// TokenFrom builds a device token the way probes do: 28 bytes of identity followed by the
// big-endian CRC32 (IEEE) of those bytes, in lowercase hex.
func TokenFrom(random [28]byte) string {
	var b [32]byte
	copy(b[:], random[:])
	binary.BigEndian.PutUint32(b[28:], crc32.ChecksumIEEE(random[:]))
	return hex.EncodeToString(b[:])
}

// TokenCRCValid reports whether a valid token's last four bytes are the CRC32 of the first 28.
func TokenCRCValid(token string) bool {
	b, err := hex.DecodeString(token)
	if err != nil || len(b) != 32 {
		return false
	}
	return binary.BigEndian.Uint32(b[28:]) == crc32.ChecksumIEEE(b[:28])
}

// HostProbe is the identity given to a host whose auth.log is ingested without --sn/--token:
// the serial is the lowercased host name cut to 16 characters, and the token is derived from the
// whole name (so two long names sharing a prefix stay apart) with a valid CRC. The same host
// always maps to the same probe.
func HostProbe(host string) Probe {
	host = strings.ToLower(host)
	sum := sha256.Sum256([]byte("sview-sshd-host\x00" + host))
	var r [28]byte
	copy(r[:], sum[:28])
	sn := host
	if len(sn) > 16 {
		sn = sn[:16]
	}
	return Probe{SN: sn, Token: TokenFrom(r)}
}

// Identities resolves probes to identity ids, creating missing ones, with a cache. Each new
// probe is committed on its own, before any row that references it, so a failed batch never
// leaves the cache pointing at an id that was rolled back.
type Identities struct {
	pool  *pgxpool.Pool
	cache map[Probe]int64
	New   int // identities this process created
}

// NewIdentities starts an empty cache over pool.
func NewIdentities(pool *pgxpool.Pool) *Identities {
	return &Identities{pool: pool, cache: map[Probe]int64{}}
}

// ID returns the identity id of p, inserting the probe when it is new. p must be valid.
func (s *Identities) ID(ctx context.Context, p Probe) (int64, error) {
	if id, ok := s.cache[p]; ok {
		return id, nil
	}
	var id int64
	var created bool
	var err error
	// A probe inserted by a concurrent ingest after this statement's snapshot is invisible to
	// it; the second try sees it.
	for try := 0; try < 3; try++ {
		err = s.pool.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO identity (sn, device_token) VALUES ($1, $2)
			ON CONFLICT (sn, device_token) DO NOTHING
			RETURNING id
		)
		SELECT id, true FROM ins
		UNION ALL
		SELECT id, false FROM identity WHERE sn = $1 AND device_token = $2
		LIMIT 1`, p.SN, p.Token).Scan(&id, &created)
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
	}
	if err != nil {
		return 0, fmt.Errorf("upsert identity %s: %w", p.SN, err)
	}
	if created {
		s.New++
	}
	s.cache[p] = id
	return id, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
