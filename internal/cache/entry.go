package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Entry is one cached result: the value and the freshness facts that decide when it is
// recomputed. The cache never looks inside Value.
type Entry struct {
	// Label names the query for people (`sview cache ls`), e.g. "all_attackers_graph 1w".
	Label string
	// Watermark is the source watermark the value was computed at.
	Watermark time.Time
	// ComputedAt is when the computation finished.
	ComputedAt time.Time
	Value      []byte
}

// header is the stored form of everything but the value: one JSON line, then the value's bytes
// as they are, so listings read the line alone and the value is not re-encoded.
type header struct {
	Label      string    `json:"label,omitempty"`
	Watermark  time.Time `json:"watermark"`
	ComputedAt time.Time `json:"computed_at"`
}

var errNoValue = errors.New("cache entry without a value line")

func encodeEntry(e Entry) ([]byte, error) {
	h, err := json.Marshal(header{Label: e.Label, Watermark: e.Watermark, ComputedAt: e.ComputedAt})
	if err != nil {
		return nil, fmt.Errorf("encode cache entry: %w", err)
	}
	return append(append(h, '\n'), e.Value...), nil
}

func decodeEntry(b []byte) (Entry, error) {
	line, value, ok := bytes.Cut(b, []byte{'\n'})
	if !ok {
		// Entries written before the value was opaque were a single JSON object.
		return Entry{}, errNoValue
	}
	e, err := decodeHeader(line)
	e.Value = value
	return e, err
}

// decodeHeader reads the header line (and ignores what follows it), for listings.
func decodeHeader(b []byte) (Entry, error) {
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	var h header
	if err := json.Unmarshal(line, &h); err != nil {
		return Entry{}, fmt.Errorf("decode cache entry: %w", err)
	}
	return Entry{Label: h.Label, Watermark: h.Watermark, ComputedAt: h.ComputedAt}, nil
}
