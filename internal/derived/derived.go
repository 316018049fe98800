// Package derived is the registry of the tables sview derives from the raw probe reports: for
// each its family, the precisions it exists at, its key columns, what builds it, what it can
// answer and how it is retained. Every derived table name is spelled here and nowhere else; the
// aggregator builds from these entries, the engine chooses its source among them, and retention,
// `sview status` and the metrics list them.
package derived

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sview-project/sview/internal/period"
)

// Family is a raw table of the original schema and everything derived from it.
type Family string

// The families, in the order status lines and lock keys use.
const (
	Incidents Family = "incidents"
	Passwords Family = "passwords"
	Ports     Family = "ports"
	// FeedEvents are events from the CSIRT ecosystem (IDEA, IntelMQ): no probe of ours saw
	// them, so they have no identity_id.
	FeedEvents Family = "feed_events"
	// Commands are what attackers typed in HaaS sessions.
	Commands Family = "commands"
)

// Families lists every family. A family's index is part of its lock keys (internal/rollupstate):
// new ones go at the end.
var Families = []Family{Incidents, Passwords, Ports, FeedEvents, Commands}

// ProbeFamilies are the families whose rows name the probe that saw them (identity_id).
func ProbeFamilies() []Family {
	var out []Family
	for _, f := range Families {
		if RawOf(f).Covers("identity_id") {
			out = append(out, f)
		}
	}
	return out
}

// Rollups are the precisions that have rollup tables, finest first.
var Rollups = []period.Precision{period.Quarterly, period.Hourly, period.Daily}

// ParseRollup reads a rollup precision given by a user.
func ParseRollup(s string) (period.Precision, error) {
	if p := period.Precision(s); slices.Contains(Rollups, p) {
		return p, nil
	}
	return "", fmt.Errorf("precision %q: want one of %s", s, join(Rollups))
}

func join[S ~string](list []S) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}

// Kind says how a derived table is built and kept consistent with its rollup.
type Kind string

// The kinds of derived table.
const (
	// Raw is the probe reports themselves (the original schema).
	Raw Kind = "raw"
	// Rollup sums raw rows per bucket over every key column; the rollup step writes it and
	// advances its watermark in one transaction.
	Rollup Kind = "rollup"
	// Totals sums a rollup over fewer keys, written by the same statement as the rollup's
	// rows: it is final wherever its rollup is.
	Totals Kind = "totals"
	// Ranked sums a rollup over a few keys and ranks every bucket's rows by count. The twin
	// job builds it bucket by bucket after the rollup step and lists each built bucket in
	// twin_buckets; readers use it only for listed buckets.
	Ranked Kind = "ranked"
	// Sightings count each attacking address once per lookback (distinct attackers over long
	// windows); the twin job builds them with the ranked twins.
	Sightings Kind = "sightings"
	// Running holds cumulative per-key sums of a ranked twin, one row per bucket, so the top
	// N over any window is the difference of two rows; the twin job extends it.
	Running Kind = "running"
)

// Table is one entry of the registry: a table at each of its precisions.
type Table struct {
	Kind   Kind
	Family Family
	// Suffix follows "<family>_<precision>_" in the name; empty for raw tables and rollups.
	Suffix string
	// Keys are the columns besides time that tell a table's rows of one bucket apart; ranked
	// twins rank rows of equal count by them, in this order.
	Keys       []string
	Precisions []period.Precision
	// Sums names the ranked twin (by suffix) whose per-key sums running totals accumulate.
	Sums string
	// Answers says what the table can answer, for people (docs/architecture.md, status).
	Answers string
}

// Name is the table's name at precision p, e.g. passwords_daily_by_password.
func (t Table) Name(p period.Precision) string {
	switch {
	case t.Kind == Raw || t.Kind == Rollup && p == period.Raw:
		// A rollup "at raw" is what it is summed from: the raw table.
		return string(t.Family)
	case t.Suffix == "":
		return string(t.Family) + "_" + string(p)
	}
	return string(t.Family) + "_" + string(p) + "_" + t.Suffix
}

// At reports whether the table exists at precision p.
func (t Table) At(p period.Precision) bool { return slices.Contains(t.Precisions, p) }

// Covers reports whether the table's keys include every column in cols: a sum over those
// columns can be read from it.
func (t Table) Covers(cols ...string) bool {
	for _, c := range cols {
		if !slices.Contains(t.Keys, c) {
			return false
		}
	}
	return true
}

// Located are the key columns of a rollup that come from geo_prefixes when a raw row lacks
// them; the rollup step fills them per group.
var Located = []string{"country", "asn"}

// Retention says how a table loses old rows: raw tables and rollups by their own setting
// (aggregator.Retention), everything derived from a rollup together with it, so a reader never
// sees one without the other.
func (t Table) Retention() string {
	switch t.Kind {
	case Raw, Rollup:
		return "own setting"
	case Running:
		return "trimmed to the longest window"
	}
	return "cut with its rollup"
}

// TopRanks is how many ranks of every bucket a top-N query reads from a ranked twin as
// candidates; it reads rank TopRanks+1 too, whose count bounds every key left out of that
// bucket. The partial indexes of migration 000041 cover rank <= TopRanks+1.
const TopRanks = 100

// twinPrecisions are the rollups that have ranked twins, sightings and running totals: the
// sources of the 1w, 1m, 3m and 1y periods.
var twinPrecisions = []period.Precision{period.Hourly, period.Daily}

// All is the registry. Within a family, ranked twins come smallest first: the engine reads the
// first that covers a query.
var All = []Table{
	{Kind: Raw, Family: Incidents, Keys: []string{"identity_id", "trap", "action", "ip", "country", "asn"},
		Precisions: []period.Precision{period.Raw}, Answers: "everything, row by row; the 1h period and the newest minutes"},
	{Kind: Raw, Family: Passwords, Keys: []string{"username", "password", "identity_id", "trap", "ip", "country", "asn"},
		Precisions: []period.Precision{period.Raw}, Answers: "everything, row by row"},
	{Kind: Raw, Family: Ports, Keys: []string{"port", "protocol", "identity_id", "ip", "country", "asn"},
		Precisions: []period.Precision{period.Raw}, Answers: "everything, row by row"},
	{Kind: Raw, Family: FeedEvents, Keys: feedEventKeys,
		Precisions: []period.Precision{period.Raw}, Answers: "everything, row by row"},
	{Kind: Raw, Family: Commands, Keys: commandKeys,
		Precisions: []period.Precision{period.Raw}, Answers: "everything, row by row"},

	{Kind: Rollup, Family: Incidents, Keys: []string{"identity_id", "trap", "action", "ip", "country", "asn"},
		Precisions: Rollups, Answers: "every incident query at its precision"},
	{Kind: Rollup, Family: Passwords, Keys: []string{"username", "password", "identity_id", "trap", "ip", "country", "asn"},
		Precisions: Rollups, Answers: "every password query at its precision"},
	{Kind: Rollup, Family: Ports, Keys: []string{"port", "protocol", "identity_id", "ip", "country", "asn"},
		Precisions: Rollups, Answers: "every port query at its precision"},
	{Kind: Rollup, Family: FeedEvents, Keys: feedEventKeys,
		Precisions: Rollups, Answers: "every feed event query at its precision"},
	{Kind: Rollup, Family: Commands, Keys: commandKeys,
		Precisions: Rollups, Answers: "every command query at its precision"},

	{Kind: Totals, Family: Incidents, Suffix: "totals", Keys: []string{"trap", "action", "country", "asn"},
		Precisions: Rollups, Answers: "incident counts grouped or filtered by trap, action, country and asn only"},

	// A few hundred rows per bucket (migration 000045): incident counts by kind and country.
	{Kind: Ranked, Family: Incidents, Suffix: "by_kind", Keys: []string{"trap", "action", "country"},
		Precisions: twinPrecisions, Answers: "incident counts and top-N by trap, action and country"},
	{Kind: Ranked, Family: Incidents, Suffix: "by_ip", Keys: []string{"ip"},
		Precisions: twinPrecisions, Answers: "incident counts and top-N by address"},
	{Kind: Ranked, Family: Passwords, Suffix: "by_password", Keys: []string{"password"},
		Precisions: twinPrecisions, Answers: "login counts and top-N by password"},
	{Kind: Ranked, Family: Passwords, Suffix: "by_username", Keys: []string{"username"},
		Precisions: twinPrecisions, Answers: "login counts and top-N by username"},
	{Kind: Ranked, Family: Passwords, Suffix: "by_login", Keys: []string{"username", "password"},
		Precisions: twinPrecisions, Answers: "login counts and top-N by username and password"},
	// Two rows per bucket (migration 000043): total scans over time.
	{Kind: Ranked, Family: Ports, Suffix: "by_protocol", Keys: []string{"protocol"},
		Precisions: twinPrecisions, Answers: "scan counts by protocol, and in all"},
	{Kind: Ranked, Family: Ports, Suffix: "by_port", Keys: []string{"protocol", "port"},
		Precisions: twinPrecisions, Answers: "scan counts and top-N by port"},

	{Kind: Sightings, Family: Incidents, Suffix: "sightings", Keys: []string{"by_country", "country", "gap"},
		Precisions: twinPrecisions, Answers: "distinct attackers in all or by country, over windows up to its span"},
	// One row per bucket: the sums of every (protocol, port) since its origin, encoded.
	{Kind: Running, Family: Ports, Suffix: "running", Sums: "by_port",
		Precisions: twinPrecisions, Answers: "the exact top-N ports over any window since its origin"},
}

// The key columns of the newer families' raw tables and rollups (migration 000051).
var (
	feedEventKeys = []string{"provider", "feed", "taxonomy", "type", "identifier", "ip", "country", "asn"}
	commandKeys   = []string{"command", "identity_id", "ip", "country", "asn"}
)

// Of lists the registry's tables of one kind and family, in registry order.
func Of(k Kind, f Family) []Table {
	var out []Table
	for _, t := range All {
		if t.Kind == k && t.Family == f {
			out = append(out, t)
		}
	}
	return out
}

// Find returns the only table of a kind and family; ok is false when the family has none.
func Find(k Kind, f Family) (Table, bool) {
	ts := Of(k, f)
	if len(ts) != 1 {
		return Table{}, false
	}
	return ts[0], true
}

// RawOf is the raw table of a family.
func RawOf(f Family) Table { return first(Raw, f) }

// RollupOf is the rollup of a family.
func RollupOf(f Family) Table { return first(Rollup, f) }

// first is the first table of a kind and family; every family has a raw table and a rollup, so
// it is only called for those (a test checks the registry).
func first(k Kind, f Family) Table {
	if ts := Of(k, f); len(ts) > 0 {
		return ts[0]
	}
	return Table{Kind: k, Family: f}
}

// RolledFrom is the precision p is rolled up from: raw for quarterly, else the next finer one.
func RolledFrom(p period.Precision) period.Precision {
	if i := slices.Index(Rollups, p); i > 0 {
		return Rollups[i-1]
	}
	return period.Raw
}

// ClosingSource is the precision whose watermark lets p close its windows: raw for quarterly,
// quarterly for the others. Daily rows are sums of quarterly rows as much as of hourly ones, so
// a day closes once its quarters are final, without waiting for its hours; hourly and daily
// then run side by side (daily reads hourly rows below the hourly watermark, quarterly above).
func ClosingSource(p period.Precision) period.Precision {
	if p == period.Quarterly {
		return period.Raw
	}
	return period.Quarterly
}

// Readers are the coarser precisions that read rows of p: those rolled up from it and those
// that read it above their own source's watermark (daily reads quarterly).
func Readers(p period.Precision) []period.Precision {
	var out []period.Precision
	for _, r := range Rollups {
		if RolledFrom(r) == p || ClosingSource(r) == p {
			out = append(out, r)
		}
	}
	return out
}

// Coarser is the precision rolled up from p; ok is false for the coarsest.
func Coarser(p period.Precision) (period.Precision, bool) {
	i := slices.Index(Rollups, p)
	if p == period.Raw {
		return Rollups[0], true
	}
	if i < 0 || i+1 == len(Rollups) {
		return "", false
	}
	return Rollups[i+1], true
}

// TwinSpan is the longest window the ranked twins and sightings of a precision answer: eight
// days hourly (the 1w period reads hourly), 400 days daily (1y is 378).
func TwinSpan(p period.Precision) time.Duration {
	if p == period.Hourly {
		return 8 * 24 * time.Hour
	}
	return 400 * 24 * time.Hour
}

// TwinsAt reports whether the family has ranked twins, sightings or running totals at p: what
// the twin job builds after the rollup step.
func TwinsAt(f Family, p period.Precision) bool {
	for _, t := range All {
		if t.Family == f && (t.Kind == Ranked || t.Kind == Sightings || t.Kind == Running) && t.At(p) {
			return true
		}
	}
	return false
}

// TwinPrecisions are the precisions the twin job works at.
func TwinPrecisions() []period.Precision { return twinPrecisions }
