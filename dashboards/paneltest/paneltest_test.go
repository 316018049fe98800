package paneltest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/leak"
)

func TestInterpolate(t *testing.T) {
	vars := map[string][]string{"period": {"1w"}, "country": {"CZ", "DE"}, "none": {""}, "ip": {"192.0.2.1"}}
	cases := []struct {
		name, in, want string
		wantErr        string
	}{
		{"text", `{"period":"$period"}`, `{"period":"1w"}`, ""},
		{"multi in list", `{"filters":{"country":["$country"]}}`, `{"filters":{"country":["CZ","DE"]}}`, ""},
		{"braces", `{"filters":{"country":["${country}","US"]}}`, `{"filters":{"country":["CZ","DE","US"]}}`, ""},
		{"empty drops element", `{"filters":{"country":["$none"]}}`, `{"filters":{"country":[]}}`, ""},
		{"multi in text joins", `{"title":"$country"}`, `{"title":"CZ,DE"}`, ""},
		{"inside text", `{"filters":{"ip":"$ip"}}`, `{"filters":{"ip":"192.0.2.1"}}`, ""},
		{"blank period", `{"period":"$none"}`, `{"period":""}`, ""},
		{"unknown", `{"period":"$nope"}`, "", "$nope has no value"},
		{"leak password sent as its sha1", `{"queryType":"leak","password":"${ip}"}`,
			`{"queryType":"leak","sha1":"` + leak.HashPassword("192.0.2.1").String() + `"}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Interpolate(json.RawMessage(c.in), vars)
			if c.wantErr != "" {
				require.ErrorContains(t, err, c.wantErr)
				return
			}
			require.NoError(t, err)
			require.JSONEq(t, c.want, string(got))
		})
	}
}

func TestWithAdhoc(t *testing.T) {
	got, err := WithAdhoc(json.RawMessage(`{"metric":"incidents","filters":{"country":["CZ"]}}`), []AdhocFilter{
		{Key: "country", Operator: "=", Value: "DE"}, {Key: "port", Operator: "!=|", Value: "22", Values: []string{"22", "23"}}})
	require.NoError(t, err)
	require.JSONEq(t, `{"metric":"incidents","filters":{"country":["CZ"]},"adhoc":[{"key":"country","operator":"=","value":"DE"},
		{"key":"port","operator":"!=|","value":"22","values":["22","23"]}]}`, string(got))
	got, err = WithAdhoc(json.RawMessage(`{"metric":"incidents"}`), nil)
	require.NoError(t, err)
	require.JSONEq(t, `{"metric":"incidents"}`, string(got), "no filters, no list")
}

func TestCheck(t *testing.T) {
	now := time.Unix(1_700_000_000, 0).UTC()
	series := func(labels data.Labels, v int64) *data.Frame {
		return data.NewFrame("s", data.NewField("time", nil, []time.Time{now}), data.NewField("value", labels, []int64{v}))
	}
	table := data.NewFrame("t", data.NewField("country", nil, []string{"CZ", "DE"}), data.NewField("count", nil, []int64{3, 2}))
	badMap := data.NewFrame("t", data.NewField("country", nil, []string{"Czechia"}), data.NewField("count", nil, []int64{3}))
	empty := data.NewFrame("e", data.NewField("time", nil, []time.Time{}), data.NewField("value", nil, []int64{}))
	greylist := data.NewFrame("g", data.NewField("ip", nil, []string{"192.0.2.1"}), data.NewField("score", nil, []float64{1}),
		data.NewField("first_seen", nil, []*time.Time{&now}), data.NewField("last_seen", nil, []*time.Time{nil}))
	greylist.Meta = &data.FrameMeta{Type: data.FrameTypeTable}
	backwards := data.NewFrame("b", data.NewField("time", nil, []time.Time{now, now.Add(-time.Hour)}), data.NewField("v", nil, []int64{1, 2}))
	twoNums := data.NewFrame("t", data.NewField("asn", nil, []int64{1}), data.NewField("count", nil, []int64{3}))
	cases := []struct {
		name    string
		need    Need
		frames  data.Frames
		wantErr string
	}{
		{"series", NeedTimeSeries, data.Frames{series(nil, 1)}, ""},
		{"table is no series", NeedTimeSeries, data.Frames{table}, "not a time series"},
		{"table with times is no series", NeedTimeSeries, data.Frames{greylist}, "frame type table"},
		{"time must ascend", NeedTimeSeries, data.Frames{backwards}, "not ascending"},
		{"empty", NeedTimeSeries, data.Frames{empty}, "without rows"},
		{"no frames", NeedTable, nil, "no frames"},
		{"map", NeedCountryMap, data.Frames{table}, ""},
		{"map needs codes", NeedCountryMap, data.Frames{badMap}, "not an ISO country code"},
		{"number", NeedNumber, data.Frames{table}, ""},
		{"alert multi", NeedAlertSeries, data.Frames{series(data.Labels{"country": "CZ"}, 1), series(data.Labels{"country": "DE"}, 2)}, ""},
		{"alert duplicate labels", NeedAlertSeries, data.Frames{series(data.Labels{"country": "CZ"}, 1), series(data.Labels{"country": "CZ"}, 2)}, "two series"},
		{"alert numeric table", NeedAlertSeries, data.Frames{table}, ""},
		{"alert two numeric columns", NeedAlertSeries, data.Frames{twoNums}, "one numeric field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Check(c.need, c.frames)
			if c.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, c.wantErr)
			}
		})
	}
	require.Equal(t, []string{"ip"}, HasFields(data.Frames{table}, []string{"country", "ip"}))
}

func TestSeed(t *testing.T) {
	ctx := context.Background()
	url, s := SeededDatabase(t, time.Now().UTC())
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	require.Len(t, s.Probes, 2)
	require.Regexp(t, `^[1-9][0-9]*$`, s.ASN)
	require.Len(t, s.Countries, 2)
	require.NotEmpty(t, s.IP)
	require.NotEmpty(t, s.Password)
	require.Regexp(t, `^[0-9a-f]{5}$`, s.Prefix)
	require.NotEmpty(t, s.Tags)
	var leaked bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM passwords_pwned WHERE encode(hash, 'hex') LIKE $1 || '%')`, s.Prefix).Scan(&leaked))
	require.True(t, leaked, "the sample password is a known leak")
	for _, table := range []string{"incidents_quarterly", "incidents_hourly", "incidents_daily", "passwords_daily", "ports_daily"} {
		var n int64
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n))
		require.Positive(t, n, "%s is rolled up", table)
	}
	var days int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(DISTINCT day) FROM greylist_history").Scan(&days))
	require.Equal(t, 8, days, "a week of greylist snapshots")
}
