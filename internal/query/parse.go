package query

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sview-project/sview/internal/catalog"
)

// Keys are the top-level keys of the query model, of every query type: an editor keeps the
// fields of the other types when the type changes, and Normalize drops them.
var Keys = []string{"queryType", "preset", "metric", "groupBy", "format", "period", "limit", "filters", "exclude",
	"minScore", "sha1", "prefix", "password", "annotation", "adhoc", "empty", "direction", "measure", "events", "before"}

// GrafanaKeys are the keys Grafana adds to a query of any datasource (refId, the datasource
// reference, the panel's interval and points, the hidden flag, Explore's key, the query cache's
// TTL, and the query service's per-query range and assertions). Parse ignores them.
var GrafanaKeys = []string{"refId", "datasource", "datasourceId", "intervalMs", "maxDataPoints", "hide", "key",
	"queryCachingTTL", "timeRange", "resultAssertions"}

// FilterKeys are the keys under filters; ExcludeKeys those under exclude (the same but tag,
// which only the greylist filters by).
var (
	FilterKeys = []string{"probe", "asn", "country", "trap", "action", "ip", "password", "username", "port",
		"taxonomy", "type", "identifier", "feed", "provider", "command", "tag"}
	ExcludeKeys = FilterKeys[:len(FilterKeys)-1]
)

// Parse decodes the query JSON, expands its preset (explicit fields override the preset's),
// normalises and validates it, then folds in its ad-hoc filters (adhoc.go). A key that is neither one of Keys nor one of GrafanaKeys, and
// a key under filters or exclude that is not a filter, is an error naming it and the allowed
// ones: a misspelt filter must not answer the unfiltered total. Every error wraps
// ErrInvalidJSON, ErrInvalidField, ErrMissingField or ErrUnsupported and names the field.
func Parse(b []byte) (Query, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil || fields == nil {
		return Query{}, fmt.Errorf("%w: the query must be a JSON object", ErrInvalidJSON)
	}
	if err := unknownKey("query", fields, Keys, GrafanaKeys); err != nil {
		return Query{}, err
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
	d.grouping(&q.GroupBy, "groupBy")
	d.override(&q.Format, "format", true)
	d.override(&q.Period, "period", true)
	if v, ok := d.integer("limit"); ok {
		q.Limit = int(min(max(v, -1), MaxLimit+1)) // out-of-range values stay out of range for Validate
	}
	if v, ok := d.float("minScore"); ok {
		q.MinScore = v
	}
	// The value is left out of these errors: errors reach panels and logs.
	switch password := d.text("password"); {
	case password == "":
	case q.QueryType == TypeLeak:
		return Query{}, invalid("password", "", nil,
			"a plain password is not accepted; send sha1 or prefix (the query editor hashes passwords in the browser)")
	case q.QueryType == TypeStats || q.QueryType == TypeTrend:
		return Query{}, invalid("password", "", nil, "a "+q.QueryType+" query is narrowed to a password by filters.password")
	case q.QueryType == TypeEvents:
		return Query{}, invalid("password", "", nil, "an events query is narrowed to a password by filters.password")
	}
	d.override(&q.Direction, "direction", true)
	d.override(&q.Measure, "measure", true)
	d.override(&q.SHA1, "sha1", true)
	d.override(&q.Prefix, "prefix", true)
	d.override(&q.Annotation, "annotation", true)
	d.rawEvents(&q)
	for _, f := range []struct {
		name    string
		allowed []string
		dst     *Filters
	}{{"filters", FilterKeys, &q.Filters}, {"exclude", ExcludeKeys, &q.Exclude}} {
		if err := parseFilters(fields, f.name, f.allowed, f.dst); err != nil {
			return Query{}, err
		}
	}
	if d.err != nil {
		return Query{}, d.err
	}
	q = q.Normalize()
	if err := q.Validate(); err != nil {
		return Query{}, err
	}
	return q.withAdhoc(fields)
}

// parseFilters decodes the object fields[name], if any, into dst; a key outside allowed is an
// error.
func parseFilters(fields map[string]json.RawMessage, name string, allowed []string, dst *Filters) error {
	raw, ok := fields[name]
	if !ok || isNull(raw) {
		return nil
	}
	var ff map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ff); err != nil {
		return fmt.Errorf("%w: %s must be a JSON object", ErrInvalidJSON, name)
	}
	if err := unknownKey(name, ff, allowed, nil); err != nil {
		return err
	}
	fd := decoder{fields: ff, prefix: name + "."}
	fd.numbers(&dst.Probe, "probe")
	fd.numbers(&dst.ASN, "asn")
	fd.texts(&dst.Country, "country")
	fd.texts(&dst.Trap, "trap")
	fd.texts(&dst.Action, "action")
	// a single string (saved dashboards) is a list of one
	fd.texts(&dst.IP, "ip")
	fd.texts(&dst.Password, "password")
	fd.texts(&dst.Username, "username")
	fd.ports(&dst.Port, "port") // also "TCP/22", a port cell of a table (events_query.go)
	for _, l := range Labels {
		fd.texts(l.values(dst), l.Key)
	}
	fd.texts(&dst.Tag, "tag")
	return fd.err
}

// FromPreset is the stats query a preset expands to, for the period-less dashboard range.
// Set Period (and the filter the preset requires) before use.
func FromPreset(p catalog.Preset) Query {
	return Query{
		QueryType: TypeStats, Preset: p.Name, Metric: p.Metric, GroupBy: presetGrouping(p.GroupBy),
		Format: p.Format, Limit: p.Limit,
	}
}

// presetGrouping is a preset's one grouping as a list; "" is no grouping.
func presetGrouping(key string) Grouping {
	if key == "" {
		return nil
	}
	return Grouping{key}
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

// grouping sets *dst when the field is present: a list of keys, or one text of keys separated
// by commas (Grafana interpolates a multi-value variable so), or both; keywords are trimmed and
// lower-cased and empty ones dropped, so "" and [] mean no grouping. Duplicates stay for
// Validate to name.
func (d *decoder) grouping(dst *Grouping, name string) {
	var items []string
	d.texts(&items, name)
	if _, ok := d.raw(name); !ok || d.err != nil {
		return
	}
	var keys Grouping
	for _, item := range items {
		for _, k := range strings.Split(item, ",") {
			if k = keyword(k); k != "" {
				keys = append(keys, k)
			}
		}
	}
	*dst = keys
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
