package query

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Ad-hoc filters are Grafana's ad-hoc filter variable: the user's filters narrow every panel of
// a dashboard. The frontend sends them as the query's "adhoc" list (the shape of Grafana's
// AdHocVariableFilter) and Parse folds them into the query's own filters and exclusions, so the
// engine, the scope and the cache key see ordinary filters (docs/query-model.md, "Ad-hoc
// filters").

// Ad-hoc operators: Grafana's equality and inequality, and its one-of and not-one-of, which
// carry their values in "values".
const (
	OpEqual    = "="
	OpNotEqual = "!="
	OpOneOf    = "=|"
	OpNotOneOf = "!=|"
)

// AdhocOperators are the operators Parse accepts; Grafana also offers =~, !~, < and >, which
// no filter of the model can express.
var AdhocOperators = []string{OpEqual, OpNotEqual, OpOneOf, OpNotOneOf}

// adhocEntryKeys are the keys of one ad-hoc filter.
var adhocEntryKeys = []string{"key", "operator", "value", "values"}

// adhoc is one decoded ad-hoc filter.
type adhoc struct {
	key     string
	exclude bool    // != and !=|
	values  Filters // only the field of key is set, normalised
	text    string  // as the user wrote it, for notices: port = 22
}

// withAdhoc folds the ad-hoc filters of fields["adhoc"] into the validated query q and reads
// back "empty", which marks a query they left nothing to match (its canonical JSON carries
// it). Every entry is checked on every query type; they narrow stats, trend, greylist and live
// queries only (leak lookups and status hold no attack data). An = or =| filter intersects with the query's
// own filter on its key (sets it when there is none); an empty intersection sets Empty, so the
// query answers nothing rather than everything. A != or !=| filter adds to the exclusions. A
// key the query cannot filter (or exclude) by is left out and named in AdhocIgnored: Grafana's
// own datasources ignore ad-hoc keys they do not have, and one ad-hoc filter must not break
// the other panels of a dashboard.
func (q Query) withAdhoc(fields map[string]json.RawMessage) (Query, error) {
	list, err := decodeAdhoc(fields["adhoc"])
	if err != nil {
		return Query{}, err
	}
	var empty bool
	if raw, ok := fields["empty"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &empty); err != nil {
			return Query{}, &FieldError{Kind: ErrInvalidJSON, Field: "empty", Reason: "must be true or false"}
		}
	}
	var filterable, excludable []string
	var cannot string
	switch q.QueryType {
	case TypeStats, TypeTrend:
		filterable, excludable = FiltersOf(q.Table()), FiltersOf(q.Table())
		cannot = "metric " + q.Metric + " (table " + string(q.Table()) + ") has no "
	case TypeGreylist:
		filterable = GreylistFilters
		cannot = "the greylist has no "
	case TypeLive:
		filterable, excludable = liveFilters, liveFilters
		cannot = "a live stream (table incidents) has no "
	default:
		return q, nil
	}
	q.Empty = empty
	for _, a := range list {
		switch {
		case !a.exclude && slices.Contains(filterable, a.key):
			narrowed, err := narrow(q.Filters, a)
			switch {
			case err != nil:
				return Query{}, err
			case narrowed.has(a.key):
				q.Filters = narrowed
			default:
				q.Empty = true // the panel's own filter stays: a preset may require it
			}
		case a.exclude && slices.Contains(excludable, a.key):
			q.Exclude = widen(q.Exclude, a)
		case a.exclude && q.QueryType == TypeGreylist:
			q.AdhocIgnored = append(q.AdhocIgnored, a.text+": a greylist query has no exclusions")
		default:
			q.AdhocIgnored = append(q.AdhocIgnored, a.text+": "+cannot+a.key)
		}
	}
	q.Exclude = q.Exclude.normalize()
	if err := q.Validate(); err != nil { // exclusions may have grown past their bounds
		return Query{}, err
	}
	return q, nil
}

// decodeAdhoc reads the ad-hoc list; each entry's values are decoded, normalised and checked as
// a filter of its key.
func decodeAdhoc(raw json.RawMessage) ([]adhoc, error) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("%w: adhoc must be a JSON array of {key, operator, value, values}", ErrInvalidJSON)
	}
	out := make([]adhoc, 0, len(entries))
	for i, e := range entries {
		name := "adhoc[" + strconv.Itoa(i) + "]"
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(e, &fields); err != nil || fields == nil {
			return nil, fmt.Errorf("%w: %s must be a JSON object {key, operator, value, values}", ErrInvalidJSON, name)
		}
		if err := unknownKey(name, fields, adhocEntryKeys, nil); err != nil {
			return nil, err
		}
		d := decoder{fields: fields, prefix: name + "."}
		key, op := d.text("key"), d.text("operator")
		if d.err != nil {
			return nil, d.err
		}
		if !slices.Contains(FilterKeys, key) {
			return nil, invalid(name+".key", key, FilterKeys, "unknown filter key")
		}
		if !slices.Contains(AdhocOperators, op) {
			return nil, unsupported(name+".operator", op, AdhocOperators, "ad-hoc operator not supported")
		}
		var values []string
		if r, ok := d.raw("values"); ok && (op == OpOneOf || op == OpNotOneOf) {
			v, err := decodeList(r, decodeText)
			if err != nil {
				d.fail("values", err)
			}
			values = v
		}
		if len(values) == 0 {
			var v string
			d.override(&v, "value", false) // passwords keep their case
			values = []string{v}
		}
		if d.err != nil {
			return nil, d.err
		}
		a := adhoc{key: key, exclude: op == OpNotEqual || op == OpNotOneOf, text: key + " " + op + " " + strings.Join(values, ", ")}
		if key == "password" {
			a.text = key + " " + op + " …" // the text reaches panel notices, errors and logs
		}
		var err error
		if a.values, err = adhocValues(name, key, values); err != nil {
			return nil, err
		}
		if err := a.check(name); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// adhocValues sets the filter of key to values, normalised; name is the entry, for errors.
func adhocValues(name, key string, values []string) (Filters, error) {
	var numbers []int64
	if key == "probe" || key == "asn" || key == "port" {
		for _, s := range values {
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return Filters{}, invalid(name+".value", s, nil, "a "+key+" is an integer")
			}
			numbers = append(numbers, n)
		}
	}
	var f Filters
	switch key {
	case "probe":
		f.Probe = numbers
	case "asn":
		f.ASN = numbers
	case "port":
		f.Port = numbers
	case "country":
		f.Country = values
	case "trap":
		f.Trap = values
	case "action":
		f.Action = values
	case "ip":
		f.IP = values
	case "tag":
		f.Tag = values
	case "taxonomy", "type", "identifier", "feed", "provider", "command":
		l, _ := LabelOf(key)
		*l.values(&f) = values
	case "password":
		f.Password = values
	case "username":
		f.Username = values
	}
	return f.normalize(), nil
}

// check validates the decoded values of the ad-hoc filter named name.
func (a adhoc) check(name string) error {
	if !a.values.has(a.key) {
		return missing(name+".value", "the ad-hoc filter on "+a.key+" has no value")
	}
	return a.values.validate(name, FilterKeys, "")
}

// narrow intersects the filter of a's key in f with a's values: f's own values that a also
// allows (for addresses, the more specific of two nested prefixes). An empty intersection
// leaves the key unset, which the caller reads as "matches nothing".
func narrow(f Filters, a adhoc) (Filters, error) {
	v := a.values
	switch a.key {
	case "probe":
		f.Probe = intersect(f.Probe, v.Probe)
	case "asn":
		f.ASN = intersect(f.ASN, v.ASN)
	case "port":
		f.Port = intersect(f.Port, v.Port)
	case "country":
		f.Country = intersect(f.Country, v.Country)
	case "trap":
		f.Trap = intersect(f.Trap, v.Trap)
	case "action":
		f.Action = intersect(f.Action, v.Action)
	case "ip":
		f.IP = intersectIPs(f.IP, v.IP)
	case "taxonomy", "type", "identifier", "feed", "provider", "command":
		l, _ := LabelOf(a.key)
		*l.values(&f) = intersect(l.Values(f), l.Values(v))
	case "password":
		f.Password = intersect(f.Password, v.Password)
	case "username":
		f.Username = intersect(f.Username, v.Username)
	case "tag":
		// An entry holds several tags: the model's "any of these tags" and the ad-hoc one
		// combine into one list only when one list holds the other.
		switch {
		case len(f.Tag) == 0 || isSubset(v.Tag, f.Tag):
			f.Tag = v.Tag
		case !isSubset(f.Tag, v.Tag):
			return f, unsupported("adhoc", a.text, f.Tag, "an entry would need one of the panel's tags and one of the ad-hoc ones; pick ad-hoc tags among the panel's")
		}
	}
	return f, nil
}

// widen adds a's values to the exclusions f (normalised by the caller).
func widen(f Filters, a adhoc) Filters {
	v := a.values
	switch a.key {
	case "probe":
		f.Probe = append(slices.Clone(f.Probe), v.Probe...)
	case "asn":
		f.ASN = append(slices.Clone(f.ASN), v.ASN...)
	case "port":
		f.Port = append(slices.Clone(f.Port), v.Port...)
	case "country":
		f.Country = append(slices.Clone(f.Country), v.Country...)
	case "trap":
		f.Trap = append(slices.Clone(f.Trap), v.Trap...)
	case "action":
		f.Action = append(slices.Clone(f.Action), v.Action...)
	case "ip":
		f.IP = append(slices.Clone(f.IP), v.IP...)
	case "taxonomy", "type", "identifier", "feed", "provider", "command":
		l, _ := LabelOf(a.key)
		*l.values(&f) = append(slices.Clone(l.Values(f)), l.Values(v)...)
	case "password":
		f.Password = append(slices.Clone(f.Password), v.Password...)
	case "username":
		f.Username = append(slices.Clone(f.Username), v.Username...)
	}
	return f
}

// intersect is have ∩ want, or want when have is empty (no filter); sorted inputs give a
// sorted result.
func intersect[T comparable](have, want []T) []T {
	if len(have) == 0 {
		return want
	}
	var out []T
	for _, v := range have {
		if slices.Contains(want, v) {
			out = append(out, v)
		}
	}
	return out
}

func isSubset[T comparable](sub, of []T) bool {
	for _, v := range sub {
		if !slices.Contains(of, v) {
			return false
		}
	}
	return true
}

// intersectIPs is the set of addresses in both lists of addresses and prefixes: two prefixes
// overlap only when one holds the other, and then the more specific is their intersection.
func intersectIPs(have, want []string) []string {
	if len(have) == 0 {
		return want
	}
	var out []string
	wanted := Filters{IP: want}.IPPrefixes()
	for _, h := range (Filters{IP: have}).IPPrefixes() {
		for _, w := range wanted {
			if h.Overlaps(w) {
				out = append(out, moreSpecific(h, w).String())
			}
		}
	}
	return canonicalIPs(out)
}

func moreSpecific(a, b netip.Prefix) netip.Prefix {
	if b.Bits() > a.Bits() {
		return b
	}
	return a
}
