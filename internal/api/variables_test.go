package api

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/stats"
	"github.com/sview-project/sview/internal/testenv"
)

func TestParseVariablesRange(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	from, to := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	parse := func(kind, raw string) (VariablesRequest, error) {
		params, err := url.ParseQuery(raw)
		require.NoError(t, err)
		return ParseVariables(kind, params, now)
	}
	rng := fmt.Sprintf("from=%d&to=%d", from.UnixMilli(), to.UnixMilli())
	req, err := parse("countries", rng)
	require.NoError(t, err)
	require.Equal(t, VariablesRequest{Kind: "countries", Limit: DefaultRankedLimit, From: from, To: to}, req)
	require.True(t, req.Ranked())

	req, err = parse("countries", "")
	require.NoError(t, err)
	require.Equal(t, VariablesRequest{Kind: "countries", Limit: DefaultVariablesLimit}, req, "without a range: every known country")
	require.False(t, req.Ranked())

	req, err = parse("ips", "limit=5")
	require.NoError(t, err)
	require.Equal(t, VariablesRequest{Kind: "ips", Limit: 5, From: now.Add(-DefaultRankedRange), To: now}, req, "addresses are always by volume: the last day")

	req, err = parse("tags", rng)
	require.NoError(t, err)
	require.False(t, req.Ranked(), "the greylist is current: a range does not apply")

	for raw, want := range map[string]string{
		"from=1764547200000":                  "from and to go together",
		"from=yesterday&to=1764633600000":     `from "yesterday", want epoch milliseconds`,
		"from=1764633600000&to=1764547200000": "to must be after from",
		"since=1":                             `parameter "since", want q, limit, from or to`,
	} {
		_, err := parse("ips", raw)
		require.ErrorIs(t, err, ErrVariables, raw)
		require.ErrorContains(t, err, want, raw)
	}
}

// tableEngine answers every query with one table and records the queries and ranges it got.
type tableEngine struct {
	frame   *data.Frame
	queries []query.Query
	ranges  []period.Range
}

func (e *tableEngine) Run(_ context.Context, q query.Query, r period.Range) (data.Frames, time.Time, error) {
	e.queries, e.ranges = append(e.queries, q), append(e.ranges, r)
	return data.Frames{e.frame}, time.Time{}, nil
}

// TestRankedVariables: which query a ranked list asks (the key's top-N table, in the caller's
// scope) and how its answer becomes options.
func TestRankedVariables(t *testing.T) {
	pool := testenv.Pool(t)
	seed(t, pool)
	c, err := cache.New(cache.Options{Backend: mustMemory(t)})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	eng := &tableEngine{}
	st := stats.New(stats.Config{DB: pool, Cache: c, Engine: eng})
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	req := VariablesRequest{Limit: 3, From: from, To: from.Add(24 * time.Hour)}

	req.Kind = "ports"
	eng.frame = data.NewFrame("t", data.NewField("port", nil, []string{"TCP/22", "UDP/22", "TCP/23"}), data.NewField("scans", nil, []int64{9, 5, 1}))
	opts, err := RankedVariables(context.Background(), pool, st, req, query.Scope{ASNs: []int64{64500}})
	require.NoError(t, err)
	require.Equal(t, []Option{{"22", "TCP/22"}, {"23", "TCP/23"}}, opts, "a port by number, once")
	require.Equal(t, query.Query{QueryType: "stats", Metric: "scans", GroupBy: query.Grouping{"port"}, Format: "table", Limit: 3,
		Restrict: &query.Restriction{ASNs: []int64{64500}}}, eng.queries[0])
	require.Equal(t, period.Range{From: req.From, To: req.To, Interval: 24 * time.Hour / 50}, eng.ranges[0])

	req.Kind = "asns"
	eng.frame = data.NewFrame("t", data.NewField("asn", nil, []string{"64502", "64500"}), data.NewField("incidents", nil, []int64{9, 5}))
	opts, err = RankedVariables(context.Background(), pool, st, req, query.Scope{All: true})
	require.NoError(t, err)
	require.Equal(t, []Option{{"64502", "AS64502"}, {"64500", "AS64500 EXAMPLE-NET"}}, opts, "by volume, named where a name is known")
}
