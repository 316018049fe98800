package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Feed events come from the CSIRT ecosystem, not from our probes: IDEA messages (Warden,
// Mentat) and IntelMQ events. Both end up in feed_events with the IntelMQ classification
// (taxonomy, type, identifier), so one set of dimensions answers questions over both.

// intelmqTypes lists the IntelMQ 3 classification types of each taxonomy (IntelMQ's
// harmonization, itself the RSIT taxonomy of ENISA and TF-CSIRT).
var intelmqTypes = map[string][]string{
	"abusive-content":              {"harmful-speech", "spam", "violence"},
	"availability":                 {"ddos", "dos", "misconfiguration", "outage", "sabotage"},
	"fraud":                        {"copyright", "masquerade", "phishing", "unauthorized-use-of-resources"},
	"information-content-security": {"data-leak", "data-loss", "unauthorised-information-access", "unauthorised-information-modification"},
	"information-gathering":        {"scanner", "sniffing", "social-engineering"},
	"intrusion-attempts":           {"brute-force", "exploit", "ids-alert"},
	"intrusions": {"application-compromise", "burglary", "privileged-account-compromise",
		"system-compromise", "unprivileged-account-compromise"},
	"malicious-code": {"c2-server", "infected-system", "malware-configuration", "malware-distribution"},
	"other":          {"blacklist", "dga-domain", "malware", "other", "proxy", "tor", "undetermined"},
	"test":           {"test"},
	"vulnerable": {"ddos-amplifier", "information-disclosure", "potentially-unwanted-accessible",
		"vulnerable-system", "weak-crypto"},
}

// intelmqTaxonomy maps each type to its taxonomy; taxonomyList names the taxonomies for messages.
var intelmqTaxonomy, taxonomyList = func() (map[string]string, string) {
	m := map[string]string{}
	names := make([]string, 0, len(intelmqTypes))
	for tax, types := range intelmqTypes {
		names = append(names, tax)
		for _, t := range types {
			m[t] = tax
		}
	}
	sort.Strings(names)
	return m, strings.Join(names, ", ")
}()

// TaxonomyOf is the IntelMQ taxonomy of a classification type, and whether the type is one.
func TaxonomyOf(typ string) (string, bool) {
	tax, ok := intelmqTaxonomy[typ]
	return tax, ok
}

// classified is a feed event's place in the IntelMQ classification.
type classified struct{ taxonomy, typ string }

// ideaCategories maps IDEA categories (the classification of idea.cesnet.cz) to IntelMQ
// taxonomy and type. Categories not listed here fall back by their top level in ideaClass.
var ideaCategories = map[string]classified{
	"Abusive.Spam":                         {"abusive-content", "spam"},
	"Abusive.Harassment":                   {"abusive-content", "harmful-speech"},
	"Abusive.Child":                        {"abusive-content", "violence"},
	"Abusive.Sexual":                       {"abusive-content", "violence"},
	"Abusive.Violence":                     {"abusive-content", "violence"},
	"Recon.Scanning":                       {"information-gathering", "scanner"},
	"Recon.Searching":                      {"information-gathering", "scanner"},
	"Recon.Sniffing":                       {"information-gathering", "sniffing"},
	"Recon.SocialEngineering":              {"information-gathering", "social-engineering"},
	"Attempt.Exploit":                      {"intrusion-attempts", "exploit"},
	"Attempt.Login":                        {"intrusion-attempts", "brute-force"},
	"Attempt.NewSignature":                 {"intrusion-attempts", "ids-alert"},
	"Intrusion.AdminCompromise":            {"intrusions", "privileged-account-compromise"},
	"Intrusion.UserCompromise":             {"intrusions", "unprivileged-account-compromise"},
	"Intrusion.AppCompromise":              {"intrusions", "application-compromise"},
	"Intrusion.Botnet":                     {"malicious-code", "infected-system"},
	"Availability.DoS":                     {"availability", "dos"},
	"Availability.DDoS":                    {"availability", "ddos"},
	"Availability.Sabotage":                {"availability", "sabotage"},
	"Availability.Outage":                  {"availability", "outage"},
	"Information.UnauthorizedAccess":       {"information-content-security", "unauthorised-information-access"},
	"Information.UnauthorizedModification": {"information-content-security", "unauthorised-information-modification"},
	"Fraud.UnauthorizedUsage":              {"fraud", "unauthorized-use-of-resources"},
	"Fraud.Copyright":                      {"fraud", "copyright"},
	"Fraud.Masquerade":                     {"fraud", "masquerade"},
	"Fraud.Scam":                           {"fraud", "masquerade"},
	"Fraud.Phishing":                       {"fraud", "phishing"},
	"Vulnerable.Open":                      {"vulnerable", "potentially-unwanted-accessible"},
	"Vulnerable.Config":                    {"vulnerable", "vulnerable-system"},
	"Other":                                {"other", "other"},
	"Test":                                 {"test", "test"},
}

// ideaClass classifies an IDEA category: the table, then Malware.* (the source of a malware
// event is a host that runs it), else other/undetermined (Anomaly.* and unknown categories).
func ideaClass(category string) classified {
	if c, ok := ideaCategories[category]; ok {
		return c
	}
	if category == "Malware" || strings.HasPrefix(category, "Malware.") {
		return classified{"malicious-code", "infected-system"}
	}
	return classified{"other", "undetermined"}
}

// feedTime reads an RFC 3339 or Unix-seconds time like ts, naming the field in its errors.
func feedTime(field string, u unixTime) (time.Time, error) {
	if !u.set {
		return time.Time{}, bad("%s is missing", field)
	}
	if u.t.Before(minTime) || !u.t.Before(maxTime) {
		return time.Time{}, bad("%s %s is outside 2000–2099", field, u.t.Format(time.RFC3339))
	}
	return u.t, nil
}

// ---- IDEA ----

type ideaMsg struct {
	Format     string          `json:"Format"`
	DetectTime unixTime        `json:"DetectTime"`
	EventTime  unixTime        `json:"EventTime"`
	Category   []string        `json:"Category"`
	ConnCount  json.RawMessage `json:"ConnCount"`
	Source     []struct {
		IP4 []string `json:"IP4"`
		IP6 []string `json:"IP6"`
	} `json:"Source"`
	Node []struct {
		Name string `json:"Name"`
	} `json:"Node"`
}

type ideaParser struct {
	stateless
	provider string
}

func (p *ideaParser) parse(_ context.Context, line []byte, b *Batch) error {
	var m ideaMsg
	if err := decodeJSON(line, &m); err != nil {
		return err
	}
	if m.Format != "IDEA0" {
		return bad("Format %q: want IDEA0", truncate(m.Format, 40))
	}
	field, when := "DetectTime", m.DetectTime
	if m.EventTime.set {
		field, when = "EventTime", m.EventTime
	}
	ts, err := feedTime(field, when)
	if err != nil {
		return err
	}
	if len(m.Category) == 0 || m.Category[0] == "" {
		return bad("Category is missing")
	}
	count := int64(1)
	if len(m.ConnCount) > 0 && string(m.ConnCount) != "null" {
		n, perr := strconv.ParseInt(string(m.ConnCount), 10, 64)
		if perr != nil || n < 1 {
			return bad("ConnCount %s: want a whole number of at least 1", truncate(string(m.ConnCount), 40))
		}
		count = n
	}
	// Each system that handles a message adds its Node in front, so the detector is the last.
	if len(m.Node) == 0 || m.Node[len(m.Node)-1].Name == "" {
		return bad("Node Name is missing: the detector's name is the feed")
	}
	feed := CleanText(m.Node[len(m.Node)-1].Name)
	class := ideaClass(m.Category[0])
	category := CleanText(m.Category[0])

	n0, networks := len(b.FeedEvents), 0
	for _, s := range m.Source {
		for _, list := range [][]string{s.IP4, s.IP6} {
			for _, text := range list {
				ip, single, err := ideaAddress(text)
				if err != nil {
					b.FeedEvents = b.FeedEvents[:n0]
					return err
				}
				if !single {
					networks++
					continue
				}
				b.FeedEvents = append(b.FeedEvents, FeedEvent{Time: ts, Count: count, Provider: p.provider,
					Feed: feed, Taxonomy: class.taxonomy, Type: class.typ, Identifier: category, IP: ip})
			}
		}
	}
	if len(b.FeedEvents) == n0 {
		if networks > 0 {
			return bad("no single Source address (%d networks or ranges are not stored)", networks)
		}
		return bad("no Source IP4 or IP6")
	}
	p.seen(ts)
	return nil
}

// ideaAddress reads an IDEA IP4/IP6 item: an address, a CIDR network or a "first-last" range.
// single is false for a network or range of more than one address, which is not stored.
func ideaAddress(s string) (ip netip.Addr, single bool, err error) {
	if first, last, ok := strings.Cut(s, "-"); ok {
		a, err1 := netip.ParseAddr(strings.TrimSpace(first))
		z, err2 := netip.ParseAddr(strings.TrimSpace(last))
		if err1 != nil || err2 != nil || a.Is4() != z.Is4() || z.Less(a) {
			return ip, false, bad("Source address %q is not an address, network or range", truncate(s, 80))
		}
		return a.Unmap(), a == z, nil
	}
	if strings.Contains(s, "/") {
		pfx, perr := netip.ParsePrefix(s)
		if perr != nil {
			return ip, false, bad("Source address %q is not an address, network or range", truncate(s, 80))
		}
		return pfx.Addr().Unmap(), pfx.IsSingleIP(), nil
	}
	ip, err = parseIP("Source address", s)
	return ip, err == nil, err
}

// ---- IntelMQ ----

// intelmqASN accepts what exports put in source.asn: a number or a numeric string.
type intelmqASN struct {
	n   int64
	set bool
}

func (a *intelmqASN) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "null" || s == "" {
		return nil
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(strings.ToUpper(s), "AS"), 10, 64)
	if err != nil {
		return bad("source.asn %s is not a number", truncate(string(b), 40))
	}
	a.n, a.set = n, true
	return nil
}

// intelmqFields are the fields read from an event, in IntelMQ's flat form ("source.ip").
type intelmqFields struct {
	SourceIP        string     `json:"source.ip"`
	SourceASN       intelmqASN `json:"source.asn"`
	SourceCC        string     `json:"source.geolocation.cc"`
	Taxonomy        string     `json:"classification.taxonomy"`
	Type            string     `json:"classification.type"`
	Identifier      string     `json:"classification.identifier"`
	FeedProvider    string     `json:"feed.provider"`
	FeedName        string     `json:"feed.name"`
	TimeSource      unixTime   `json:"time.source"`
	TimeObservation unixTime   `json:"time.observation"`
}

// intelmqMsg also takes the nested form some exports write ({"source": {"ip": …}}); a field
// given both ways takes the flat value.
type intelmqMsg struct {
	intelmqFields
	Source *struct {
		IP          string     `json:"ip"`
		ASN         intelmqASN `json:"asn"`
		Geolocation *struct {
			CC string `json:"cc"`
		} `json:"geolocation"`
	} `json:"source"`
	Classification *struct {
		Taxonomy   string `json:"taxonomy"`
		Type       string `json:"type"`
		Identifier string `json:"identifier"`
	} `json:"classification"`
	Feed *struct {
		Provider string `json:"provider"`
		Name     string `json:"name"`
	} `json:"feed"`
	Time *struct {
		Source      unixTime `json:"source"`
		Observation unixTime `json:"observation"`
	} `json:"time"`
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// flat merges the nested form into the flat one.
func (m *intelmqMsg) flat() intelmqFields {
	f := m.intelmqFields
	if s := m.Source; s != nil {
		f.SourceIP = or(f.SourceIP, s.IP)
		if !f.SourceASN.set {
			f.SourceASN = s.ASN
		}
		if s.Geolocation != nil {
			f.SourceCC = or(f.SourceCC, s.Geolocation.CC)
		}
	}
	if c := m.Classification; c != nil {
		f.Taxonomy, f.Type, f.Identifier = or(f.Taxonomy, c.Taxonomy), or(f.Type, c.Type), or(f.Identifier, c.Identifier)
	}
	if fd := m.Feed; fd != nil {
		f.FeedProvider, f.FeedName = or(f.FeedProvider, fd.Provider), or(f.FeedName, fd.Name)
	}
	if t := m.Time; t != nil {
		if !f.TimeSource.set {
			f.TimeSource = t.Source
		}
		if !f.TimeObservation.set {
			f.TimeObservation = t.Observation
		}
	}
	return f
}

type intelmqParser struct{ stateless }

func (p *intelmqParser) parse(_ context.Context, line []byte, b *Batch) error {
	var m intelmqMsg
	if err := decodeJSON(line, &m); err != nil {
		return err
	}
	f := m.flat()
	if !f.TimeSource.set && !f.TimeObservation.set {
		return bad("time.source and time.observation are missing")
	}
	field, when := "time.source", f.TimeSource
	if !when.set {
		field, when = "time.observation", f.TimeObservation
	}
	ts, err := feedTime(field, when)
	if err != nil {
		return err
	}
	typ := strings.ToLower(strings.TrimSpace(f.Type))
	if typ == "" {
		return bad("classification.type is missing")
	}
	derived, ok := intelmqTaxonomy[typ]
	if !ok {
		return bad("classification.type %q is not an IntelMQ type (e.g. scanner, brute-force, exploit, infected-system, spam, ddos, phishing, vulnerable-system, undetermined)", truncate(typ, 40))
	}
	tax := strings.ToLower(strings.TrimSpace(f.Taxonomy))
	if tax == "" {
		tax = derived
	} else if _, ok := intelmqTypes[tax]; !ok {
		return bad("classification.taxonomy %q: want one of %s", truncate(tax, 40), taxonomyList)
	}
	if strings.TrimSpace(f.FeedName) == "" {
		return bad("feed.name is missing")
	}
	ip, err := parseIP("source.ip", strings.TrimSpace(f.SourceIP))
	if err != nil {
		return err
	}
	ev := FeedEvent{Time: ts, Count: 1, Provider: CleanText(f.FeedProvider), Feed: CleanText(f.FeedName),
		Taxonomy: tax, Type: typ, Identifier: CleanText(f.Identifier), IP: ip}
	if f.SourceASN.set {
		if f.SourceASN.n < 1 || f.SourceASN.n > math.MaxInt32 {
			return bad("source.asn %d is out of range", f.SourceASN.n)
		}
		ev.ASN = int32(f.SourceASN.n)
	}
	if cc := strings.TrimSpace(f.SourceCC); cc != "" {
		if len(cc) != 2 || !isLetter(cc[0]) || !isLetter(cc[1]) {
			return bad("source.geolocation.cc %q is not a two-letter country code", truncate(cc, 40))
		}
		ev.Country = strings.ToUpper(cc)
	}
	p.seen(ts)
	b.FeedEvents = append(b.FeedEvents, ev)
	return nil
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
