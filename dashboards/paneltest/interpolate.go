package paneltest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/sview-project/sview/internal/leak"
)

var varRef = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)`)

// Interpolate replaces dashboard variables in a target the way the plugin's frontend does
// (applyTemplateVariables): in a list element a multi-value variable becomes one element per
// value and elements left empty are dropped (no filter); in any other string the values are
// joined with commas. A variable missing from vars is an error, as it would reach the backend
// unreplaced. A leak query's password is then sent as its sha1, as the frontend's query() does.
func Interpolate(raw json.RawMessage, vars map[string][]string) (json.RawMessage, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	out, err := interpolate(v, vars)
	if err != nil {
		return nil, err
	}
	if q, ok := out.(map[string]any); ok && q["queryType"] == "leak" {
		if pw, ok := q["password"].(string); ok {
			delete(q, "password")
			q["sha1"] = leak.HashPassword(pw).String()
		}
	}
	return json.Marshal(out)
}

func interpolate(v any, vars map[string][]string) (any, error) {
	switch v := v.(type) {
	case string:
		return replace(v, vars, ",")
	case []any:
		out := make([]any, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				r, err := interpolate(e, vars)
				if err != nil {
					return nil, err
				}
				out = append(out, r)
				continue
			}
			const sep = "\x1f"
			r, err := replace(s, vars, sep)
			if err != nil {
				return nil, err
			}
			for _, part := range strings.Split(r, sep) {
				if part != "" {
					out = append(out, part)
				}
			}
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			r, err := interpolate(e, vars)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

func replace(s string, vars map[string][]string, sep string) (string, error) {
	var missing string
	r := varRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := varRef.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		vals, ok := vars[name]
		if !ok {
			missing = name
			return m
		}
		return strings.Join(vals, sep)
	})
	if missing != "" {
		return "", fmt.Errorf("variable $%s has no value", missing)
	}
	return r, nil
}

// AdhocFilter is one filter of a dashboard's ad-hoc variable, as the frontend sends it.
type AdhocFilter struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Value    string   `json:"value"`
	Values   []string `json:"values,omitempty"`
}

// WithAdhoc adds a dashboard's ad-hoc filters to a target as the frontend's
// applyTemplateVariables does: as the query's adhoc list, the panel's own filters untouched.
func WithAdhoc(raw json.RawMessage, filters []AdhocFilter) (json.RawMessage, error) {
	var q map[string]any
	if err := json.Unmarshal(raw, &q); err != nil {
		return nil, err
	}
	if len(filters) > 0 {
		q["adhoc"] = filters
	}
	return json.Marshal(q)
}
