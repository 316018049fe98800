package query

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Grafana interpolates template variables into strings, so a number may arrive as "64500" and a
// single-valued variable as a bare value where a list is expected. The decoders below accept
// both; their errors say what was wrong with the value, and the caller adds the field name.

func isNull(b json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(b), []byte("null")) }

// decodeInt reads a JSON number or numeric string as an integer.
func decodeInt(b json.RawMessage) (int64, error) {
	s, err := decodeText(b)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s is not an integer", b)
	}
	return v, nil
}

// decodeFloat reads a JSON number or numeric string as a float.
func decodeFloat(b json.RawMessage) (float64, error) {
	s, err := decodeText(b)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("%s is not a number", b)
	}
	return v, nil
}

// decodeText reads a JSON string, or a JSON number as its literal text.
func decodeText(b json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "", fmt.Errorf("%.40s is not valid JSON", b)
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case float64:
		return string(bytes.TrimSpace(b)), nil
	}
	return "", fmt.Errorf("%.40s is not a string", b)
}

// decodeList reads a JSON array, or a single value as a list of one, decoding each item.
func decodeList[T any](b json.RawMessage, item func(json.RawMessage) (T, error)) ([]T, error) {
	if isNull(b) {
		return nil, nil
	}
	t := bytes.TrimSpace(b)
	if len(t) == 0 || t[0] != '[' {
		v, err := item(t)
		if err != nil {
			return nil, err
		}
		return []T{v}, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(t, &raw); err != nil {
		return nil, fmt.Errorf("%.40s is not a JSON array", b)
	}
	out := make([]T, 0, len(raw))
	for _, r := range raw {
		v, err := item(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
