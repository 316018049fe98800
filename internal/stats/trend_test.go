package stats

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/aggregator"
	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/engine"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/testenv"
)

// trendNow is the clock of the trend tests: the last complete day is 17 March.
var trendNow = time.Date(2026, 3, 18, 17, 47, 31, 0, time.UTC)

// seedTrends writes incidents at noon of each of the 14 days before trendNow's midnight, per
// ASN (day 0 is the oldest; days 7…13 are the current week), and rolls them up with the
// aggregator:
//   - AS65001 grows: 5 a day the week before, then 10, 20, …, 70;
//   - AS65002 is constant: 30 a day throughout;
//   - AS65003 falls: 80 a day the week before, then 70, 60, …, 10;
//   - AS65004 is new: nothing the week before, then 0, …, 0, 7, 14 in the last two days;
//   - AS65005 is gone: 9 on day 0 only.
func seedTrends(t *testing.T) *pgxpool.Pool {
	ctx := context.Background()
	pool := testenv.Pool(t)
	_, err := pool.Exec(ctx, `INSERT INTO identity (id, sn, device_token) VALUES (1, '0000000000000001', repeat('ab', 32))`)
	require.NoError(t, err)
	midnight := period.Floor(trendNow, 24*time.Hour)
	perDay := map[int64]func(d int) int64{
		65001: func(d int) int64 {
			if d < 7 {
				return 5
			}
			return int64(10 * (d - 6))
		},
		65002: func(int) int64 { return 30 },
		65003: func(d int) int64 {
			if d < 7 {
				return 80
			}
			return int64(10 * (14 - d))
		},
		65004: func(d int) int64 { return map[int]int64{12: 7, 13: 14}[d] },
		65005: func(d int) int64 { return map[int]int64{0: 9}[d] },
	}
	var times []time.Time
	var counts, asns []int64
	for asn, f := range perDay {
		for d := range 14 {
			if n := f(d); n > 0 {
				times = append(times, midnight.AddDate(0, 0, d-14).Add(12*time.Hour))
				counts, asns = append(counts, n), append(asns, asn)
			}
		}
	}
	_, err = pool.Exec(ctx, `INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
		SELECT t, n, 1, 'minipot_telnet', 'login', '192.0.2.1', 'CZ', a FROM unnest($1::timestamptz[], $2::bigint[], $3::int[]) AS x(t, n, a)`,
		times, counts, asns)
	require.NoError(t, err)
	agg, err := aggregator.New(pool, aggregator.Config{Now: func() time.Time { return trendNow }})
	require.NoError(t, err)
	require.NoError(t, agg.CatchUp(ctx, "quarterly"))
	return pool
}

// countingEngine counts the engine's computations.
type countingEngine struct {
	*engine.Engine
	runs atomic.Int32
}

func (c *countingEngine) Run(ctx context.Context, q query.Query, r period.Range) (data.Frames, time.Time, error) {
	c.runs.Add(1)
	return c.Engine.Run(ctx, q, r)
}

func trendService(t *testing.T, pool *pgxpool.Pool, maxRows int) (*Service, *countingEngine) {
	eng := &countingEngine{Engine: engine.New(pool, engine.Options{MaxRows: maxRows, Now: func() time.Time { return trendNow }})}
	s := New(Config{Cache: memoryCache(t), DB: pool, Engine: eng, MaxRows: maxRows})
	s.now = func() time.Time { return trendNow }
	return s, eng
}

// trendRow is one row of a trend table as the test reads it.
type trendRow struct {
	asn                       string
	current, previous, change int64
	ratio                     *float64
	slope                     float64
	buckets                   int64
}

func trendRows(t *testing.T, f *data.Frame) []trendRow {
	var names []string
	for _, fd := range f.Fields {
		names = append(names, fd.Name)
	}
	require.Equal(t, []string{"asn", "asn_name", "current", "previous", "change", "change_ratio", "slope_per_day", "buckets"}, names)
	rows := make([]trendRow, f.Rows())
	for i := range rows {
		rows[i] = trendRow{asn: strconv.FormatInt(*f.Fields[0].At(i).(*int64), 10), current: f.Fields[2].At(i).(int64),
			previous: f.Fields[3].At(i).(int64), change: f.Fields[4].At(i).(int64), ratio: f.Fields[5].At(i).(*float64),
			slope: f.Fields[6].At(i).(float64), buckets: f.Fields[7].At(i).(int64)}
	}
	return rows
}

func ratio(v float64) *float64 { return &v }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestTrendOfSeededKeys(t *testing.T) {
	ctx := context.Background()
	pool := seedTrends(t)
	s, eng := trendService(t, pool, 0)
	parse := func(js string) query.Query {
		q, err := query.Parse([]byte(js))
		require.NoError(t, err)
		return q
	}

	res, err := s.Trend(ctx, parse(`{"queryType":"trend","metric":"incidents","groupBy":"asn","period":"1w"}`), period.Range{}, false)
	require.NoError(t, err)
	require.Equal(t, cache.StateMiss, res.State)
	require.Len(t, res.Frames, 1)
	rising := trendRows(t, res.Frames[0])
	for _, r := range rising {
		t.Logf("rising: AS%s current %d previous %d change %d ratio %v slope/day %g over %d buckets", r.asn, r.current, r.previous, r.change, deref(r.ratio), r.slope, r.buckets)
	}
	require.Len(t, rising, 2, "AS65002 is flat, AS65003 falls, AS65005 has nothing this week")
	require.Equal(t, trendRow{asn: "65001", current: 280, previous: 35, change: 245, ratio: ratio(7), slope: 10, buckets: 7}, rising[0])
	// AS65004: 0, 0, 0, 0, 0, 7, 14 — Σ(x−3)·y = 2·7 + 3·14 = 56 over Σ(x−3)² = 28
	require.Equal(t, trendRow{asn: "65004", current: 21, previous: 0, change: 21, ratio: nil, slope: 2, buckets: 7}, rising[1])
	custom := res.Frames[0].Meta.Custom.(map[string]any)
	require.Equal(t, time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC), custom["from"], "the last 7 whole days")
	require.Equal(t, time.Date(2026, 3, 18, 0, 0, 0, 0, time.UTC), custom["to"])
	require.Equal(t, 2+7, int(eng.runs.Load()), "both windows' totals and each day's")

	res, err = s.Trend(ctx, parse(`{"queryType":"trend","metric":"incidents","groupBy":"asn","period":"1w","direction":"falling"}`), period.Range{}, false)
	require.NoError(t, err)
	require.Equal(t, cache.StateHit, res.State, "both directions share one computation")
	falling := trendRows(t, res.Frames[0])
	require.Equal(t, []trendRow{{asn: "65003", current: 280, previous: 560, change: -280, ratio: ratio(-0.5), slope: -10, buckets: 7}}, falling)

	// The numeric answer for alert rules: the key and one number per row.
	res, err = s.Trend(ctx, parse(`{"queryType":"trend","metric":"incidents","groupBy":"asn","period":"1w","format":"numeric","limit":1}`), period.Range{}, false)
	require.NoError(t, err)
	f := res.Frames[0]
	require.Len(t, f.Fields, 3, "the key's text columns (asn, asn_name: labels to Grafana) and one number")
	require.Equal(t, "slope_per_day", f.Fields[2].Name)
	require.Equal(t, 1, f.Rows())
	require.Equal(t, "65001", f.Fields[0].At(0))
	require.Equal(t, 10.0, f.Fields[2].At(0))
	require.Equal(t, 2+7, int(eng.runs.Load()), "still the one computation")

	// The dashboard range of the same week reads the same days.
	res, err = s.Trend(ctx, parse(`{"queryType":"trend","metric":"incidents","groupBy":"asn"}`),
		period.Range{From: trendNow.Add(-7 * 24 * time.Hour), To: trendNow, Interval: time.Hour}, false)
	require.NoError(t, err)
	require.Equal(t, rising, trendRows(t, res.Frames[0]))

	// A day in hourly buckets (the dashboard range of 17 March): every key's day is one spike at
	// noon, bucket 12 of 0…23, just right of the middle (11.5), so each reads as a slight rise:
	// per hour 0.5·y / Σ(x−11.5)² = 0.5·y / 1150, per day 24 times that.
	res, err = s.Trend(ctx, parse(`{"queryType":"trend","metric":"incidents","groupBy":"asn"}`),
		period.Range{From: time.Date(2026, 3, 17, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 18, 0, 0, 0, 0, time.UTC), Interval: time.Minute}, false)
	require.NoError(t, err)
	day := trendRows(t, res.Frames[0])
	require.Len(t, day, 4)
	require.Equal(t, "65001", day[0].asn)
	require.Equal(t, int64(24), day[0].buckets)
	require.Equal(t, int64(70-60), day[0].change)
	require.InDelta(t, 24*0.5*70/1150.0, day[0].slope, 1e-9)

	// Distinct attackers (all from one address) are distinct over the window, and per day for
	// the slope: AS65004's address on its last two days is 1 attacker this week, 0, …, 0, 1, 1
	// by day: Σ(x−3)·y = 2 + 3 = 5 over 28.
	res, err = s.Trend(ctx, parse(`{"queryType":"trend","metric":"attackers","groupBy":"asn","period":"1w"}`), period.Range{}, false)
	require.NoError(t, err)
	attackers := trendRows(t, res.Frames[0])
	require.Len(t, attackers, 1, "every other ASN had its one attacker every day")
	require.Equal(t, "65004", attackers[0].asn)
	require.Equal(t, int64(1), attackers[0].current)
	require.InDelta(t, 5.0/28, attackers[0].slope, 1e-12)

	// Filters narrow the keys, as in a stats query.
	res, err = s.Trend(ctx, parse(`{"queryType":"trend","metric":"incidents","groupBy":"asn","period":"1w","exclude":{"asn":[65001]}}`), period.Range{}, false)
	require.NoError(t, err)
	require.Equal(t, "65004", trendRows(t, res.Frames[0])[0].asn)
}

func TestTrendWaitsForTheRollup(t *testing.T) {
	ctx := context.Background()
	pool := seedTrends(t)
	s, _ := trendService(t, pool, 0)
	// The daily rollup has not closed 17 March yet: the week ends on the 17th's midnight.
	_, err := pool.Exec(ctx, `UPDATE rollup_watermarks SET watermark = '2026-03-17T00:00:00Z' WHERE precision = 'daily'`)
	require.NoError(t, err)
	q, err := query.Parse([]byte(`{"queryType":"trend","metric":"incidents","groupBy":"asn","period":"1w"}`))
	require.NoError(t, err)
	res, err := s.Trend(ctx, q, period.Range{}, false)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 3, 17, 0, 0, 0, 0, time.UTC), res.Frames[0].Meta.Custom.(map[string]any)["to"])
	rows := trendRows(t, res.Frames[0])
	// AS65001 over 10 March (5) and 11…16 March (10 … 60): still rising
	require.Equal(t, "65001", rows[0].asn)
	require.Equal(t, int64(5+210), rows[0].current)
}

func TestTrendRowGuard(t *testing.T) {
	ctx := context.Background()
	pool := seedTrends(t)
	q, err := query.Parse([]byte(`{"queryType":"trend","metric":"incidents","groupBy":"asn","period":"1w"}`))
	require.NoError(t, err)
	// 4 keys a window and at most 4 a day: within a guard of 4 rows, though the keys hold
	// 4 × 7 counts, since each read is a table of the keys in its span.
	s, _ := trendService(t, pool, 4)
	res, err := s.Trend(ctx, q, period.Range{}, false)
	require.NoError(t, err)
	require.Equal(t, "65001", trendRows(t, res.Frames[0])[0].asn)

	s, _ = trendService(t, pool, 3)
	_, err = s.Trend(ctx, q, period.Range{}, false)
	require.ErrorIs(t, err, engine.ErrTooManyRows)
	require.ErrorIs(t, err, query.ErrUnsupported, "the user can fix it: a bad request, not a fault")
	require.ErrorContains(t, err, "trend of every asn: answer too large")
	require.ErrorContains(t, err, "narrow it with filters or exclusions")
}

// TestTrendAdhoc: a dashboard's ad-hoc filters narrow a trend's keys as they narrow a stats
// query, and a trend whose ad-hoc and panel filters have nothing in common ranks no key.
func TestTrendAdhoc(t *testing.T) {
	ctx := context.Background()
	pool := seedTrends(t)
	s, _ := trendService(t, pool, 0)
	rows := func(js string) []trendRow {
		q, err := query.Parse([]byte(js))
		require.NoError(t, err)
		q, err = query.Scope{All: true}.Apply(q)
		require.NoError(t, err)
		res, err := s.Trend(ctx, q, period.Range{}, false)
		require.NoError(t, err)
		require.Len(t, res.Frames, 1)
		return trendRows(t, res.Frames[0])
	}
	asns := func(rs []trendRow) (out []string) {
		for _, r := range rs {
			out = append(out, r.asn)
		}
		return out
	}
	const trend = `"queryType":"trend","metric":"incidents","groupBy":"asn","period":"1w"`
	require.Equal(t, []string{"65001", "65004"}, asns(rows(`{`+trend+`}`)))
	require.Equal(t, []string{"65004"}, asns(rows(`{`+trend+`,"adhoc":[{"key":"asn","operator":"=","value":"65004"}]}`)),
		"only the ad-hoc key's row remains")
	require.Equal(t, []string{"65004"}, asns(rows(`{`+trend+`,"adhoc":[{"key":"asn","operator":"!=","value":"65001"}]}`)),
		"!= removes the key")
	require.Equal(t, []string{"65001", "65004"}, asns(rows(`{`+trend+`,"adhoc":[{"key":"country","operator":"=|","values":["CZ","US"]}]}`)),
		"every row is from CZ")
	require.Empty(t, rows(`{`+trend+`,"adhoc":[{"key":"country","operator":"!=","value":"CZ"}]}`))
	require.Empty(t, rows(`{`+trend+`,"filters":{"asn":[65001]},"adhoc":[{"key":"asn","operator":"=","value":"65004"}]}`),
		"the panel's filter and the ad-hoc one have no ASN in common: nothing")
	require.Empty(t, rows(`{`+trend+`,"direction":"falling","filters":{"asn":[65003]},"adhoc":[{"key":"asn","operator":"=","value":"65004"}]}`))
	require.Len(t, rows(`{`+trend+`,"direction":"falling","filters":{"asn":[65003]}}`), 1)
}
