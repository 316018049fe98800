package query

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Sentinel errors. Every error Parse returns wraps one of them, so callers (the plugin marks
// them as downstream errors, the HTTP API answers 400) can tell a bad query from a fault.
var (
	// ErrInvalidJSON: the query is not a JSON object of the expected shape.
	ErrInvalidJSON = errors.New("invalid query JSON")
	// ErrInvalidField: a field holds a value outside its allowed values.
	ErrInvalidField = errors.New("invalid field")
	// ErrMissingField: a field the query needs is absent.
	ErrMissingField = errors.New("missing field")
	// ErrUnsupported: the field is valid on its own but not for this metric or format.
	ErrUnsupported = errors.New("unsupported combination")
)

// FieldError names the field at fault, the value given and what would have been accepted.
type FieldError struct {
	Kind    error // one of the sentinel errors
	Field   string
	Value   string
	Allowed []string
	Reason  string
	// Key, when set, is a key Field's object does not know ("query" is the top level); Allowed
	// then lists the keys it knows.
	Key string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Key != "" {
		fmt.Fprintf(&b, "%s %s: unknown key %q; allowed: %s", e.Kind, e.Field, e.Key, strings.Join(e.Allowed, ", "))
		return b.String()
	}
	b.WriteString(e.Kind.Error())
	b.WriteString(" ")
	b.WriteString(e.Field)
	if e.Value != "" {
		fmt.Fprintf(&b, " %q", e.Value)
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if len(e.Allowed) > 0 {
		b.WriteString(" (allowed: ")
		b.WriteString(strings.Join(e.Allowed, ", "))
		b.WriteString(")")
	}
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Kind }

func invalid(field, value string, allowed []string, reason string) error {
	return &FieldError{Kind: ErrInvalidField, Field: field, Value: value, Allowed: allowed, Reason: reason}
}

// unknownKey is the error for the first key (in sorted order) of fields that is neither in
// allowed (listed in the message) nor in ignored, or nil.
func unknownKey(object string, fields map[string]json.RawMessage, allowed, ignored []string) error {
	var unknown []string
	for k := range fields {
		if !slices.Contains(allowed, k) && !slices.Contains(ignored, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	sorted := slices.Sorted(slices.Values(allowed))
	return &FieldError{Kind: ErrInvalidField, Field: object, Key: unknown[0], Allowed: sorted}
}

func missing(field, reason string) error {
	return &FieldError{Kind: ErrMissingField, Field: field, Reason: reason}
}

func unsupported(field, value string, allowed []string, reason string) error {
	return &FieldError{Kind: ErrUnsupported, Field: field, Value: value, Allowed: allowed, Reason: reason}
}
