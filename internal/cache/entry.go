package cache

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// Entry is one cached query result: the frames and the freshness facts that decide when it is
// recomputed.
type Entry struct {
	// Label names the query for people (`sview cache ls`), e.g. "all_attackers_graph 1w".
	Label string
	// Watermark is the source watermark the frames were computed at.
	Watermark time.Time
	// ComputedAt is when the computation finished.
	ComputedAt time.Time
	Frames     data.Frames
}

// envelope is the stored form. Frames travel as Arrow, the SDK's own wire format, so a cached
// result decodes to exactly the frames that were computed (types, labels, meta).
type envelope struct {
	Label      string    `json:"label,omitempty"`
	Watermark  time.Time `json:"watermark"`
	ComputedAt time.Time `json:"computed_at"`
	Frames     [][]byte  `json:"frames"`
}

func encodeEntry(e Entry) ([]byte, error) {
	frames, err := e.Frames.MarshalArrow()
	if err != nil {
		return nil, fmt.Errorf("encode frames: %w", err)
	}
	return json.Marshal(envelope{Label: e.Label, Watermark: e.Watermark, ComputedAt: e.ComputedAt, Frames: frames})
}

func decodeEntry(b []byte) (Entry, error) {
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return Entry{}, fmt.Errorf("decode cache entry: %w", err)
	}
	frames, err := data.UnmarshalArrowFrames(env.Frames)
	if err != nil {
		return Entry{}, fmt.Errorf("decode cached frames: %w", err)
	}
	return Entry{Label: env.Label, Watermark: env.Watermark, ComputedAt: env.ComputedAt, Frames: frames}, nil
}

// decodeHeader reads everything but the frames, for listings.
func decodeHeader(b []byte) (Entry, error) {
	var env struct {
		Label      string    `json:"label"`
		Watermark  time.Time `json:"watermark"`
		ComputedAt time.Time `json:"computed_at"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return Entry{}, fmt.Errorf("decode cache entry: %w", err)
	}
	return Entry{Label: env.Label, Watermark: env.Watermark, ComputedAt: env.ComputedAt}, nil
}
