package query

import (
	"cmp"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sview-project/sview/internal/catalog"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/sentinel"
)

// Normalize fills defaults, canonicalises values (country upper case, addresses in their
// shortest form, lists sorted and deduplicated) and drops the fields another query type uses,
// so equal queries have equal JSON and cache keys. It does not validate.
func (q Query) Normalize() Query {
	q.QueryType = cmp.Or(q.QueryType, TypeStats)
	f := &q.Filters
	f.Probe = sortedUnique(f.Probe)
	f.ASN = sortedUnique(f.ASN)
	f.Port = sortedUnique(f.Port)
	f.Country = sortedUnique(mapStrings(f.Country, func(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }))
	f.Trap = sortedUnique(mapStrings(f.Trap, keyword))
	f.Action = sortedUnique(mapStrings(f.Action, keyword))
	f.Tag = sortedUnique(mapStrings(f.Tag, keyword))
	f.IP = canonicalIP(f.IP)

	switch q.QueryType {
	case TypeStats:
		q.MinScore, q.SHA1, q.Prefix = 0, "", ""
		q.Format = cmp.Or(q.Format, FormatTimeSeries)
		if q.Format == FormatMap && q.GroupBy == "" {
			q.GroupBy = "country"
		}
		switch {
		case q.GroupBy == "":
			q.Limit = 0 // one series or one total row: nothing to rank
		case q.Limit == 0 && q.Format == FormatTimeSeries:
			q.Limit = DefaultTimeSeriesLimit
		case q.Limit == 0 && q.Format == FormatTable:
			q.Limit = DefaultTableLimit
		}
	case TypeGreylist:
		// Stats filters stay so Validate can reject them by name.
		// format table (default) is the current list; timeseries is its size per day over the
		// period or dashboard range, from the daily snapshots.
		q = Query{QueryType: q.QueryType, Format: cmp.Or(q.Format, FormatTable), Period: q.Period,
			Limit: q.Limit, MinScore: q.MinScore, Filters: q.Filters}
	case TypeLeak:
		q = Query{QueryType: q.QueryType, SHA1: keyword(q.SHA1), Prefix: keyword(q.Prefix)}
	case TypeStatus:
		q = Query{QueryType: q.QueryType}
	}
	return q
}

// Validate checks every field against its closed list or range. The first problem found is
// returned as a *FieldError.
func (q Query) Validate() error {
	switch q.QueryType {
	case TypeStats:
		return q.validateStats()
	case TypeGreylist:
		return q.validateGreylist()
	case TypeLeak:
		return q.validateLeak()
	case TypeStatus:
		return nil
	}
	return invalid("queryType", q.QueryType, QueryTypes, "unknown query type")
}

func (q Query) validateStats() error {
	if q.Metric == "" {
		return missing("metric", "a stats query needs a metric or a preset (allowed: "+strings.Join(Metrics, ", ")+")")
	}
	if !slices.Contains(Metrics, q.Metric) {
		return invalid("metric", q.Metric, Metrics, "unknown metric")
	}
	if !slices.Contains(Formats, q.Format) {
		return invalid("format", q.Format, Formats, "unknown format")
	}
	if err := validPeriod(q.Period); err != nil {
		return err
	}
	table := q.Table()
	if !slices.Contains(GroupBys, q.GroupBy) {
		return invalid("groupBy", q.GroupBy, GroupBys[1:], "unknown grouping")
	}
	if allowed := GroupBysOf(table); !slices.Contains(allowed, q.GroupBy) {
		return unsupported("groupBy", q.GroupBy, allowed[1:], "metric "+q.Metric+" (table "+string(table)+") has no such column")
	}
	if q.Format == FormatMap && q.GroupBy != "country" {
		return unsupported("groupBy", q.GroupBy, []string{"country"}, "a map is grouped by country")
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		return invalid("limit", strconv.Itoa(q.Limit), nil, "must be between 1 and "+strconv.Itoa(MaxLimit)+" (0 or absent for the default)")
	}
	if err := q.Filters.validate(FiltersOf(table), "metric "+q.Metric+" (table "+string(table)+")"); err != nil {
		return err
	}
	if q.Preset != "" {
		p, ok := catalog.Lookup(q.Preset)
		if !ok {
			return invalid("preset", q.Preset, catalog.Names(), "unknown preset")
		}
		if p.Requires != "" && !q.Filters.has(p.Requires) {
			return missing("filters."+p.Requires, "preset "+p.Name+" is about one "+p.Requires+" and needs this filter")
		}
	}
	return nil
}

func validPeriod(name string) error {
	if name == "" {
		return nil
	}
	if _, ok := period.Lookup(name); !ok {
		return invalid("period", name, append([]string{`"" (dashboard range)`}, period.Names()...), "unknown period")
	}
	return nil
}

func (q Query) validateGreylist() error {
	if math.IsNaN(q.MinScore) || math.IsInf(q.MinScore, 0) || q.MinScore < 0 {
		return invalid("minScore", strconv.FormatFloat(q.MinScore, 'g', -1, 64), nil, "must be a number of at least 0")
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		return invalid("limit", strconv.Itoa(q.Limit), nil, "must be between 0 (all) and "+strconv.Itoa(MaxLimit))
	}
	if q.Format != FormatTable && q.Format != FormatTimeSeries {
		return invalid("format", q.Format, []string{FormatTable, FormatTimeSeries}, "a greylist query is the list (table) or its size per day (timeseries)")
	}
	if err := validPeriod(q.Period); err != nil {
		return err
	}
	return q.Filters.validate([]string{"tag", "country", "asn"}, "a greylist query")
}

var (
	hexRE = regexp.MustCompile(`^[0-9a-f]+$`)
	tagRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	ccRE  = regexp.MustCompile(`^[A-Z]{2}$`)
)

func (q Query) validateLeak() error {
	if (q.SHA1 == "") == (q.Prefix == "") {
		return missing("sha1|prefix", "a leak query needs exactly one of sha1 or prefix")
	}
	switch {
	case q.SHA1 != "" && (len(q.SHA1) != 40 || !hexRE.MatchString(q.SHA1)):
		return invalid("sha1", q.SHA1, nil, "must be 40 hexadecimal digits")
	case q.Prefix != "" && (len(q.Prefix) < 5 || len(q.Prefix) > 40 || !hexRE.MatchString(q.Prefix)):
		return invalid("prefix", q.Prefix, nil, "must be 5 to 40 hexadecimal digits")
	}
	return nil
}

// validate checks the filters set against the allowed names and each value against its range.
func (f Filters) validate(allowed []string, what string) error {
	for _, name := range []string{"probe", "asn", "country", "trap", "action", "ip", "password", "username", "port", "tag"} {
		if f.has(name) && !slices.Contains(allowed, name) {
			return unsupported("filters."+name, "", allowed, what+" cannot be filtered by "+name)
		}
	}
	for _, v := range f.Probe {
		if v < 1 {
			return invalid("filters.probe", strconv.FormatInt(v, 10), nil, "a probe is a positive identity id")
		}
	}
	for _, v := range f.ASN {
		if v < 0 || v > math.MaxInt32 {
			return invalid("filters.asn", strconv.FormatInt(v, 10), nil, "an AS number is between 0 and 2147483647")
		}
	}
	for _, v := range f.Port {
		if v < 0 || v > 65535 {
			return invalid("filters.port", strconv.FormatInt(v, 10), nil, "a port is between 0 and 65535")
		}
	}
	for _, v := range f.Country {
		if !ccRE.MatchString(v) {
			return invalid("filters.country", v, nil, "a country is an ISO 3166 two-letter code such as CZ")
		}
	}
	for _, v := range f.Trap {
		if !sentinel.Valid(sentinel.Traps, v) {
			return invalid("filters.trap", v, sentinel.Traps, "unknown trap")
		}
	}
	for _, v := range f.Action {
		if !sentinel.Valid(sentinel.Actions, v) {
			return invalid("filters.action", v, sentinel.Actions, "unknown action")
		}
	}
	for _, v := range f.Tag {
		if !tagRE.MatchString(v) {
			return invalid("filters.tag", v, nil, "a tag is 1 to 32 of a-z, 0-9 and _")
		}
	}
	if f.IP != "" {
		if _, err := parseIP(f.IP); err != nil {
			return invalid("filters.ip", f.IP, nil, "not an IP address or CIDR prefix")
		}
	}
	if len(f.Password) > 1024 || len(f.Username) > 1024 {
		return invalid("filters.password/username", "", nil, "longer than 1024 bytes")
	}
	return nil
}

// has reports whether the named filter is set.
func (f Filters) has(name string) bool {
	switch name {
	case "probe":
		return len(f.Probe) > 0
	case "asn":
		return len(f.ASN) > 0
	case "country":
		return len(f.Country) > 0
	case "trap":
		return len(f.Trap) > 0
	case "action":
		return len(f.Action) > 0
	case "ip":
		return f.IP != ""
	case "password":
		return f.Password != ""
	case "username":
		return f.Username != ""
	case "port":
		return len(f.Port) > 0
	case "tag":
		return len(f.Tag) > 0
	}
	return false
}

// IPPrefix is the IP filter as a prefix (a single address is a /32 or /128).
func (f Filters) IPPrefix() (netip.Prefix, bool) {
	p, err := parseIP(f.IP)
	return p, err == nil && f.IP != ""
}

func parseIP(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// canonicalIP writes an address or prefix in its shortest form; anything unparsable is kept
// (trimmed) for Validate to reject by name.
func canonicalIP(s string) string {
	s = strings.TrimSpace(s)
	p, err := parseIP(s)
	switch {
	case s == "" || err != nil:
		return s
	case p.IsSingleIP():
		return p.Addr().String()
	}
	return p.String()
}

func keyword(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func mapStrings(in []string, f func(string) string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}

func sortedUnique[T cmp.Ordered](in []T) []T {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
