package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
)

// TestAdhocNarrows: ad-hoc filters AND with the panel's own (docs/query-model.md, "Ad-hoc
// filters"), through Parse and the scope as every reader applies them; each answer also
// matches the reference computed from the raw rows.
func TestAdhocNarrows(t *testing.T) {
	e, facts := setup(t)
	answer := func(in string) (query.Query, int64) {
		t.Helper()
		q, err := query.Scope{All: true}.Apply(mustParse(t, in))
		require.NoError(t, err)
		check(t, e, facts, q, period.Range{})
		frames, _, err := e.Answer(context.Background(), q, period.Range{})
		require.NoError(t, err)
		return q, frames[0].Fields[0].At(0).(int64)
	}
	totalOf := func(metric string) func(string) int64 {
		return func(in string) int64 {
			t.Helper()
			_, n := answer(`{"metric":"` + metric + `","format":"table","period":"1y",` + in + `}`)
			return n
		}
	}
	total := totalOf("incidents")
	all := total(`"filters":{}`)
	us := total(`"filters":{"country":["US"]}`)
	cn := total(`"filters":{"country":["CN"]}`)
	usOrCN := total(`"filters":{"country":["US","CN"]}`)
	require.Positive(t, us)
	require.Positive(t, cn)
	require.Equal(t, us+cn, usOrCN, "a list's values are alternatives")

	usAndCN := total(`"filters":{"country":["US"]},"adhoc":[{"key":"country","operator":"=","value":"CN"}]`)
	require.Zero(t, usAndCN, "US and CN: nothing, not everything")
	require.Equal(t, us, total(`"filters":{"country":["US","CN"]},"adhoc":[{"key":"country","operator":"=","value":"US"}]`))
	require.Equal(t, us, total(`"adhoc":[{"key":"country","operator":"=","value":"US"}]`), "no panel filter: the ad-hoc one")
	require.Equal(t, cn, total(`"filters":{"country":["US","CN"]},"adhoc":[{"key":"country","operator":"!=","value":"US"}]`))
	notUS := total(`"adhoc":[{"key":"country","operator":"!=","value":"US"}]`)
	require.Less(t, notUS, all)
	require.Equal(t, us+cn, total(`"adhoc":[{"key":"country","operator":"=|","values":["US","CN"]},{"key":"port","operator":"=","value":"22"}]`),
		"one of, and a key the table lacks left out")
	t.Logf("incidents over a year: all %d, US %d, CN %d, US or CN %d, US and ad-hoc CN %d, not US %d", all, us, cn, usOrCN, usAndCN, notUS)

	// Passwords and usernames are lists like the other filters, so Grafana's one-of and
	// not-one-of apply to them, as filters and as exclusions.
	{
		total := totalOf("usages")
		all := total(`"filters":{}`)
		p1, p2 := total(`"filters":{"password":"123456"}`), total(`"filters":{"password":["admin"]}`)
		require.Positive(t, p1)
		require.Positive(t, p2)
		require.Equal(t, p1+p2, total(`"filters":{"password":["123456","admin"]}`))
		require.Equal(t, p1+p2, total(`"adhoc":[{"key":"password","operator":"=|","values":["123456","admin"]}]`))
		require.Equal(t, p1, total(`"filters":{"password":["123456","admin"]},"adhoc":[{"key":"password","operator":"=|","values":["123456","nobody"]}]`))
		require.Equal(t, all-p1-p2, total(`"adhoc":[{"key":"password","operator":"!=|","values":["123456","admin"]}]`))
		require.Equal(t, all-p1-p2, total(`"exclude":{"password":["admin"]},"adhoc":[{"key":"password","operator":"!=","value":"123456"}]`))
		u1, u2 := total(`"filters":{"username":"root"}`), total(`"filters":{"username":"admin"}`)
		require.Equal(t, u1+u2, total(`"adhoc":[{"key":"username","operator":"=|","values":["root","admin"]}]`))
		require.Equal(t, all-u1-u2, total(`"adhoc":[{"key":"username","operator":"!=|","values":["root","admin"]}]`))
		require.Zero(t, total(`"filters":{"username":["root"]},"adhoc":[{"key":"username","operator":"=","value":"admin"}]`))
	}

	// Nothing is an empty answer of the query's own shape, in every metric and format.
	for _, metric := range query.Metrics {
		for _, format := range query.Formats {
			for _, per := range []string{"1h", "1y"} {
				in := fmt.Sprintf(`{"metric":%q,"format":%q,"groupBy":"country","period":%q,"filters":{"asn":[64500]},`+
					`"adhoc":[{"key":"asn","operator":"=","value":"64501"}]}`, metric, format, per)
				t.Run(in, func(t *testing.T) {
					q, err := query.Scope{Public: true}.Apply(mustParse(t, in))
					require.NoError(t, err)
					require.Equal(t, &query.Restriction{}, q.Restrict)
					check(t, e, facts, q, period.Range{})
					frames, _, err := e.Answer(context.Background(), q, period.Range{})
					require.NoError(t, err)
					require.Len(t, frames, 1)
					require.Zero(t, frames[0].Rows(), "no country has a row")
				})
			}
		}
	}
}
