package query

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sview-project/sview/internal/catalog"
)

// Parse decodes the query JSON, expands its preset (explicit fields override the preset's),
// normalises and validates it. Fields it does not know (refId, datasource, intervalMs, … that
// Grafana adds) are ignored. Every error wraps ErrInvalidJSON, ErrInvalidField,
// ErrMissingField or ErrUnsupported and names the field.
func Parse(b []byte) (Query, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil || fields == nil {
		return Query{}, fmt.Errorf("%w: the query must be a JSON object", ErrInvalidJSON)
	}
	d := decoder{fields: fields}
	q := Query{QueryType: strings.ToLower(d.text("queryType"))}
	if q.QueryType == "" {
		q.QueryType = TypeStats
	}
	if name := d.text("preset"); name != "" {
		if q.QueryType != TypeStats {
			return Query{}, unsupported("preset", name, nil, "presets are stats queries, not "+q.QueryType)
		}
		p, ok := catalog.Lookup(name)
		if !ok {
			return Query{}, invalid("preset", name, catalog.Names(), "unknown preset")
		}
		q = FromPreset(p)
	}
	d.override(&q.Metric, "metric", true)
	d.override(&q.GroupBy, "groupBy", true)
	d.override(&q.Format, "format", true)
	d.override(&q.Period, "period", true)
	if v, ok := d.integer("limit"); ok {
		q.Limit = int(min(max(v, -1), MaxLimit+1)) // out-of-range values stay out of range for Validate
	}
	if v, ok := d.float("minScore"); ok {
		q.MinScore = v
	}
	if q.QueryType == TypeLeak && d.text("password") != "" {
		// The value is left out of the error: errors reach panels and logs.
		return Query{}, invalid("password", "", nil,
			"a plain password is not accepted; send sha1 or prefix (the query editor hashes passwords in the browser)")
	}
	d.override(&q.SHA1, "sha1", true)
	d.override(&q.Prefix, "prefix", true)
	if raw, ok := fields["filters"]; ok && !isNull(raw) {
		var ff map[string]json.RawMessage
		if err := json.Unmarshal(raw, &ff); err != nil {
			return Query{}, fmt.Errorf("%w: filters must be a JSON object", ErrInvalidJSON)
		}
		fd := decoder{fields: ff, prefix: "filters."}
		fd.numbers(&q.Filters.Probe, "probe")
		fd.numbers(&q.Filters.ASN, "asn")
		fd.texts(&q.Filters.Country, "country")
		fd.texts(&q.Filters.Trap, "trap")
		fd.texts(&q.Filters.Action, "action")
		fd.override(&q.Filters.IP, "ip", false)
		fd.override(&q.Filters.Password, "password", false)
		fd.override(&q.Filters.Username, "username", false)
		fd.numbers(&q.Filters.Port, "port")
		fd.texts(&q.Filters.Tag, "tag")
		if fd.err != nil {
			return Query{}, fd.err
		}
	}
	if d.err != nil {
		return Query{}, d.err
	}
	q = q.Normalize()
	if err := q.Validate(); err != nil {
		return Query{}, err
	}
	return q, nil
}

// FromPreset is the stats query a preset expands to, for the period-less dashboard range.
// Set Period (and the filter the preset requires) before use.
func FromPreset(p catalog.Preset) Query {
	return Query{
		QueryType: TypeStats, Preset: p.Name, Metric: p.Metric, GroupBy: p.GroupBy,
		Format: p.Format, Limit: p.Limit,
	}
}

// decoder reads single fields of a JSON object and keeps the first error, named by field.
type decoder struct {
	fields map[string]json.RawMessage
	prefix string
	err    error
}

func (d *decoder) fail(name string, err error) {
	if d.err == nil {
		d.err = &FieldError{Kind: ErrInvalidJSON, Field: d.prefix + name, Reason: err.Error()}
	}
}

func (d *decoder) raw(name string) (json.RawMessage, bool) {
	r, ok := d.fields[name]
	if !ok || isNull(r) {
		return nil, false
	}
	return r, true
}

// text is a string field, "" when absent.
func (d *decoder) text(name string) string {
	var s string
	d.override(&s, name, true)
	return s
}

// override sets *dst when the field is present (even to ""), so an explicit field replaces the
// preset's value. Keywords are trimmed and lower-cased; free text (passwords) is kept as is.
func (d *decoder) override(dst *string, name string, keyword bool) {
	r, ok := d.raw(name)
	if !ok {
		return
	}
	s, err := decodeText(r)
	if err != nil {
		d.fail(name, err)
		return
	}
	if keyword {
		s = strings.ToLower(strings.TrimSpace(s))
	}
	*dst = s
}

func (d *decoder) integer(name string) (int64, bool) {
	r, ok := d.raw(name)
	if !ok {
		return 0, false
	}
	v, err := decodeInt(r)
	if err != nil {
		d.fail(name, err)
		return 0, false
	}
	return v, true
}

func (d *decoder) float(name string) (float64, bool) {
	r, ok := d.raw(name)
	if !ok {
		return 0, false
	}
	v, err := decodeFloat(r)
	if err != nil {
		d.fail(name, err)
		return 0, false
	}
	return v, true
}

func (d *decoder) numbers(dst *[]int64, name string) {
	r, ok := d.raw(name)
	if !ok {
		return
	}
	v, err := decodeList(r, decodeInt)
	if err != nil {
		d.fail(name, err)
		return
	}
	*dst = v
}

func (d *decoder) texts(dst *[]string, name string) {
	r, ok := d.raw(name)
	if !ok {
		return
	}
	v, err := decodeList(r, decodeText)
	if err != nil {
		d.fail(name, err)
		return
	}
	*dst = v
}
