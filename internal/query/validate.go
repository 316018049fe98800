package query

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sview-project/sview/internal/catalog"
	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/sentinel"
)

// Normalize fills defaults, canonicalises values (country upper case, addresses in their
// shortest form, lists sorted and deduplicated) and drops the fields another query type uses,
// so equal queries have equal JSON and cache keys. It does not validate.
func (q Query) Normalize() Query {
	q.QueryType = cmp.Or(q.QueryType, TypeStats)
	q.Filters = q.Filters.normalize()
	q.Exclude = q.Exclude.normalize()

	switch q.QueryType {
	case TypeStats:
		q.MinScore, q.SHA1, q.Prefix, q.Direction, q.Measure = 0, "", "", "", ""
		q.RawEvents = RawEvents{}
		q.Format = cmp.Or(q.Format, FormatTimeSeries)
		if q.Format == FormatMap && len(q.GroupBy) == 0 {
			q.GroupBy = Grouping{"country"}
		}
		switch {
		case len(q.GroupBy) == 0:
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
			Limit: q.Limit, MinScore: q.MinScore, Filters: q.Filters, Exclude: q.Exclude}
	case TypeLeak:
		q = Query{QueryType: q.QueryType, SHA1: keyword(q.SHA1), Prefix: keyword(q.Prefix)}
	case TypeStatus:
		q = Query{QueryType: q.QueryType}
	case TypeTrend:
		q = q.normalizeTrend()
	case TypeAnnotations, TypeProbes:
		q = q.normalizeEvents()
	case TypeEvents:
		q = q.normalizeRawEvents()
	case TypeLive:
		q = q.normalizeLive()
	}
	return q
}

// normalize canonicalises the values of f (see Normalize) without touching the caller's lists.
func (f Filters) normalize() Filters {
	f.Probe = sortedUnique(f.Probe)
	f.ASN = sortedUnique(f.ASN)
	f.Port = sortedUnique(f.Port)
	f.Country = sortedUnique(mapStrings(f.Country, func(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }))
	f.Trap = sortedUnique(mapStrings(f.Trap, keyword))
	f.Action = sortedUnique(mapStrings(f.Action, keyword))
	f.Tag = sortedUnique(mapStrings(f.Tag, keyword))
	f.IP = canonicalIPs(f.IP)
	f.Password = sortedUnique(nonEmpty(f.Password)) // kept as given: compared exactly
	f.Username = sortedUnique(nonEmpty(f.Username))
	for _, l := range Labels {
		l.normalize(&f)
	}
	return f
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
	case TypeTrend:
		return q.validateTrend()
	case TypeAnnotations:
		return q.validateAnnotations()
	case TypeProbes:
		return q.validateProbes()
	case TypeEvents:
		return q.validateRawEvents()
	case TypeLive:
		return q.validateLive()
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
	if err := q.validateGroupBy(table); err != nil {
		return err
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		return invalid("limit", strconv.Itoa(q.Limit), nil, "must be between 1 and "+strconv.Itoa(MaxLimit)+" (0 or absent for the default)")
	}
	what := "metric " + q.Metric + " (table " + string(table) + ")"
	if err := q.Filters.validate("filters", FiltersOf(table), what+" cannot be filtered by"); err != nil {
		return err
	}
	if err := q.Exclude.validate("exclude", FiltersOf(table), what+" cannot exclude by"); err != nil {
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

// validateGroupBy checks every key against the table's groupings: known, grouped once (a
// combination holds its two keys already), at most MaxGroupBy of them.
func (q Query) validateGroupBy(table derived.Family) error {
	allowed := GroupBysOf(table)[1:]
	if len(q.GroupBy) > MaxGroupBy {
		return invalid("groupBy", q.GroupBy.String(), allowed, "at most "+strconv.Itoa(MaxGroupBy)+" keys")
	}
	for i, key := range q.GroupBy {
		switch {
		case !slices.Contains(GroupBys[1:], key):
			return invalid("groupBy", key, GroupBys[1:], "unknown grouping")
		case !slices.Contains(allowed, key):
			return unsupported("groupBy", key, allowed, "metric "+q.Metric+" (table "+string(table)+") has no such column")
		case slices.Contains(q.GroupBy[:i], key):
			return invalid("groupBy", key, allowed, "a key may be given once")
		case key == "combination":
			for _, k := range combined(table) {
				if q.GroupBy.Has(k) {
					return invalid("groupBy", k, allowed, "combination groups by "+strings.Join(combined(table), " and ")+" already")
				}
			}
		}
	}
	if q.Format == FormatMap && !q.GroupBy.Is("country") {
		return unsupported("groupBy", q.GroupBy.String(), []string{"country"}, "a map is grouped by country")
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
	if err := q.Filters.validate("filters", GreylistFilters, "a greylist query cannot be filtered by"); err != nil {
		return err
	}
	return q.Exclude.validate("exclude", nil, "a greylist query cannot exclude by")
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

// validate checks the filters set against the allowed names and each value against its range;
// object is "filters" or "exclude", cannot the start of the message for a filter not allowed.
func (f Filters) validate(object string, allowed []string, cannot string) error {
	field := func(name string) string { return object + "." + name }
	for _, name := range FilterKeys {
		if f.has(name) && !slices.Contains(allowed, name) {
			return unsupported(field(name), "", allowed, cannot+" "+name)
		}
	}
	for _, v := range f.Probe {
		if v < 1 {
			return invalid(field("probe"), strconv.FormatInt(v, 10), nil, "a probe is a positive identity id")
		}
	}
	for _, v := range f.ASN {
		if v < 0 || v > math.MaxInt32 {
			return invalid(field("asn"), strconv.FormatInt(v, 10), nil, "an AS number is between 0 and 2147483647")
		}
	}
	for _, v := range f.Port {
		if v < 0 || v > 65535 {
			return invalid(field("port"), strconv.FormatInt(v, 10), nil, "a port is between 0 and 65535")
		}
	}
	for _, v := range f.Country {
		if !ccRE.MatchString(v) {
			return invalid(field("country"), v, nil, "a country is an ISO 3166 two-letter code such as CZ")
		}
	}
	for _, v := range f.Trap {
		if !sentinel.Valid(sentinel.Traps, v) {
			return invalid(field("trap"), v, sentinel.Traps, "unknown trap")
		}
	}
	for _, v := range f.Action {
		if !sentinel.Valid(sentinel.Actions, v) {
			return invalid(field("action"), v, sentinel.Actions, "unknown action")
		}
	}
	for _, v := range f.Tag {
		if !tagRE.MatchString(v) {
			return invalid(field("tag"), v, nil, "a tag is 1 to 32 of a-z, 0-9 and _")
		}
	}
	for _, v := range f.IP {
		if _, err := parseIP(v); err != nil {
			return invalid(field("ip"), v, nil, "not an IP address or CIDR prefix (such as 192.0.2.1, 198.51.100.0/24 or 2001:db8::/32)")
		}
	}
	if len(f.IP) > MaxIPs {
		return invalid(field("ip"), "", nil, "more than "+strconv.Itoa(MaxIPs)+" addresses and prefixes")
	}
	for _, c := range []struct {
		name   string
		values []string
	}{{"password", f.Password}, {"username", f.Username}} {
		if len(c.values) > MaxTexts {
			return invalid(field(c.name), "", nil, "more than "+strconv.Itoa(MaxTexts)+" values")
		}
		for _, v := range c.values {
			if len(v) > MaxTextBytes {
				return invalid(field(c.name), "", nil, "longer than "+strconv.Itoa(MaxTextBytes)+" bytes") // the value is not echoed
			}
		}
	}
	for _, l := range Labels {
		if err := l.validate(f, field(l.Key)); err != nil {
			return err
		}
	}
	return nil
}

// MaxIPs bounds the addresses and prefixes of filters.ip and exclude.ip.
const MaxIPs = 1000

// MaxTexts bounds the values of filters.password and username (and their exclusions), and
// MaxTextBytes each value.
const (
	MaxTexts     = 1000
	MaxTextBytes = 1024
)

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
		return len(f.IP) > 0
	case "password":
		return len(f.Password) > 0
	case "username":
		return len(f.Username) > 0
	case "port":
		return len(f.Port) > 0
	case "tag":
		return len(f.Tag) > 0
	}
	if l, ok := LabelOf(name); ok {
		return len(l.Values(f)) > 0
	}
	return false
}

// IPPrefixes are the addresses and prefixes of the IP filter (an address is a /32 or /128),
// masked; nil when the filter is not set. Normalize has made them parse.
func (f Filters) IPPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range f.IP {
		if p, err := parseIP(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// parseIP reads an address (as a full-length prefix) or a CIDR prefix, masked; IPv4-mapped
// IPv6 is read as IPv4, as PostgreSQL's inet holds the rows' addresses.
func parseIP(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%s: an address with a zone", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// canonicalIPs writes every address and prefix in its shortest form (a prefix masked, an
// address or full-length prefix as the address, IPv4-mapped IPv6 unmapped), drops empty
// entries (an empty variable means no filter) and those inside another prefix of the list
// (they match nothing more), and sorts the rest: equal lists give equal cache keys. Anything
// unparsable is kept (trimmed) for Validate to reject by name.
func canonicalIPs(in []string) []string {
	var prefixes []netip.Prefix
	var bad []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := parseIP(s); err == nil {
			prefixes = append(prefixes, p)
		} else {
			bad = append(bad, s)
		}
	}
	if len(bad) > 0 {
		return sortedUnique(bad)
	}
	if len(prefixes) == 0 {
		return nil
	}
	slices.SortFunc(prefixes, comparePrefixes)
	// Sorted by address, then length, a prefix follows every prefix that contains it, and
	// whatever lies between them is inside the first too: comparing with the last one kept is
	// enough.
	out := make([]string, 0, len(prefixes))
	var last netip.Prefix
	for _, p := range prefixes {
		if last.IsValid() && last.Bits() <= p.Bits() && last.Contains(p.Addr()) {
			continue
		}
		last = p
		if p.IsSingleIP() {
			out = append(out, p.Addr().String())
		} else {
			out = append(out, p.String())
		}
	}
	return out
}

func comparePrefixes(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
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

// nonEmpty drops the empty strings of in: an empty password or username (an empty variable) is
// no filter.
func nonEmpty(in []string) []string {
	return slices.DeleteFunc(slices.Clone(in), func(s string) bool { return s == "" })
}
