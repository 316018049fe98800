package query

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The feed events' and commands' labels: parsed, normalised, folded with ad-hoc filters and
// checked against the metric's table like every other filter.
func TestLabels(t *testing.T) {
	q, err := Parse([]byte(`{"metric":"events","groupBy":"taxonomy,feed","format":"table",
		"filters":{"taxonomy":[" Information-Gathering ","intrusion-attempts",""],"feed":"Scan-SSH"},
		"exclude":{"identifier":["ssh","ssh"]},
		"adhoc":[{"key":"taxonomy","operator":"=","value":"intrusion-attempts"},{"key":"provider","operator":"!=","value":"CERT.PL"},
		         {"key":"trap","operator":"=","value":"fwlogs"}]}`))
	require.NoError(t, err)
	require.Equal(t, Grouping{"taxonomy", "feed"}, q.GroupBy)
	require.Equal(t, Filters{Taxonomy: []string{"intrusion-attempts"}, Feed: []string{"Scan-SSH"}}, q.Filters, "keywords lower-cased, feed names kept as given")
	require.Equal(t, Filters{Identifier: []string{"ssh"}, Provider: []string{"CERT.PL"}}, q.Exclude)
	require.Equal(t, []string{"trap = fwlogs: metric events (table feed_events) has no trap"}, q.AdhocIgnored)

	q, err = Parse([]byte(`{"metric":"events","filters":{"type":["scanner"]},"adhoc":[{"key":"type","operator":"=","value":"spam"}]}`))
	require.NoError(t, err)
	require.True(t, q.Empty, "no type is both scanner and spam")

	q, err = Parse([]byte(`{"metric":"commands","groupBy":["command","probe"],"filters":{"command":["uname  -a"]}}`))
	require.NoError(t, err)
	require.Equal(t, []string{"uname  -a"}, q.Filters.Command, "a command is compared as typed")

	for _, c := range []struct{ in, field string }{
		{`{"metric":"events","filters":{"probe":[1]}}`, "filters.probe"},
		{`{"metric":"events","groupBy":"probe"}`, "groupBy"},
		{`{"metric":"incidents","filters":{"taxonomy":["vulnerable"]}}`, "filters.taxonomy"},
		{`{"metric":"commands","groupBy":"taxonomy"}`, "groupBy"},
		{`{"metric":"events","filters":{"feed":["` + strings.Repeat("f", 300) + `"]}}`, "filters.feed"},
	} {
		_, err := Parse([]byte(c.in))
		var fe *FieldError
		require.True(t, errors.As(err, &fe), "%s: %v", c.in, err)
		require.Equal(t, c.field, fe.Field, c.in)
	}
}

// A probe owner's scope holds no feed event (none names a probe); a network operator's does.
func TestLabelsScope(t *testing.T) {
	q, err := Parse([]byte(`{"metric":"events","groupBy":"asn"}`))
	require.NoError(t, err)
	own, err := Scope{Probes: []int64{3}}.Apply(q)
	require.NoError(t, err)
	require.Equal(t, &Restriction{Probes: []int64{3}}, own.Restrict, "the engine matches feed events by ASN and prefix only")
	pub, err := Scope{Public: true}.Apply(q)
	require.NoError(t, err)
	require.Nil(t, pub.Restrict)
}
