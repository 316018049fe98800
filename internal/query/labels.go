package query

import (
	"slices"
	"strconv"
	"strings"
)

// Label is a filter of free-text values compared as they are: the feed events' classification
// and source, and the commands typed in honeypot sessions. They are a list each, like trap, and
// go through parsing, ad-hoc filters and the engine alike, so one table lists them.
type Label struct {
	Key string
	// values is the filter's list in a Filters.
	values func(*Filters) *[]string
	// keyword: values are lower-cased (IntelMQ's taxonomy and type are lower-case words).
	keyword bool
}

// Labels are the label filters; each Key is also a grouping and the column it compares.
var Labels = []Label{
	{"taxonomy", func(f *Filters) *[]string { return &f.Taxonomy }, true},
	{"type", func(f *Filters) *[]string { return &f.Type }, true},
	{"identifier", func(f *Filters) *[]string { return &f.Identifier }, false},
	{"feed", func(f *Filters) *[]string { return &f.Feed }, false},
	{"provider", func(f *Filters) *[]string { return &f.Provider }, false},
	{"command", func(f *Filters) *[]string { return &f.Command }, false},
}

// MaxLabelBytes bounds one label value, as ingest bounds what it stores.
const MaxLabelBytes = 256

// LabelOf is the label filter named key; ok is false for any other key.
func LabelOf(key string) (Label, bool) {
	i := slices.IndexFunc(Labels, func(l Label) bool { return l.Key == key })
	if i < 0 {
		return Label{}, false
	}
	return Labels[i], true
}

// Values are the filter's values in f.
func (l Label) Values(f Filters) []string { return *l.values(&f) }

// normalize trims (and for keywords lower-cases) the values, drops empty ones, sorts and
// deduplicates them. A command keeps its inner spacing: it is compared as typed.
func (l Label) normalize(f *Filters) {
	v := l.values(f)
	out := make([]string, 0, len(*v))
	for _, s := range *v {
		s = strings.TrimSpace(s)
		if l.keyword {
			s = strings.ToLower(s)
		}
		if s != "" {
			out = append(out, s)
		}
	}
	*v = sortedUnique(out)
}

// validate checks the lengths of the filter's values; field names the list for errors.
func (l Label) validate(f Filters, field string) error {
	for _, s := range l.Values(f) {
		if len(s) > MaxLabelBytes {
			return invalid(field, strings.ToValidUTF8(s[:32], "")+"…", nil, "longer than "+strconv.Itoa(MaxLabelBytes)+" bytes")
		}
	}
	return nil
}
