package trend

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/period"
)

func TestSlope(t *testing.T) {
	require.InDelta(t, 10.0, Slope([]int64{10, 20, 30, 40, 50, 60, 70}), 1e-12)
	require.InDelta(t, -5.0, Slope([]int64{40, 35, 30, 25, 20}), 1e-12)
	require.Zero(t, Slope([]int64{7, 7, 7, 7}))
	require.Zero(t, Slope([]int64{9}), "one point has no slope")
	require.Zero(t, Slope(nil))
	// y = 1, 0, 3: mean x 1, slope (−1·1 + 1·3) / 2 = 1
	require.InDelta(t, 1.0, Slope([]int64{1, 0, 3}), 1e-12)
}

func TestBucket(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		length, bucket time.Duration
	}{
		{time.Hour, time.Minute},             // 4 quarters are too few: 60 minutes
		{90 * time.Minute, 15 * time.Minute}, // 6 quarters
		{6 * time.Hour, time.Hour},           // 6 hours
		{day, time.Hour},                     // 24 hours
		{7 * day, day},                       // 7 days
		{30 * day, day},                      // 30 days
		{90 * day, 2 * day},                  // 45 buckets of 2 days
		{378 * day, 7 * day},                 // 54 weeks
		{2 * time.Minute, time.Minute},       // as fine as the data goes
		{3 * time.Hour, 15 * time.Minute},    // 12 quarters
		{5*day + 7*time.Hour, 3 * time.Hour}, // 5 days are too few: 43 buckets of 3 hours
		{61 * time.Minute, time.Minute * 2},  // 61 minutes: 31 buckets of 2 minutes
	} {
		require.Equal(t, c.bucket, Bucket(c.length), "%s", c.length)
	}
}

func TestWindowsAt(t *testing.T) {
	end := time.Date(2026, 3, 18, 17, 47, 0, 0, time.UTC)
	w := WindowsAt(end, 7*24*time.Hour, 24*time.Hour)
	midnight := time.Date(2026, 3, 18, 0, 0, 0, 0, time.UTC)
	require.Equal(t, midnight, w.Current.To, "the unfinished day is left out")
	require.Equal(t, midnight.AddDate(0, 0, -7), w.Current.From)
	require.Equal(t, midnight.AddDate(0, 0, -7), w.Previous.To)
	require.Equal(t, midnight.AddDate(0, 0, -14), w.Previous.From)
	require.Equal(t, 7, w.Buckets())
	b := w.BucketRanges()
	require.Len(t, b, 7)
	require.Equal(t, period.Range{From: midnight.AddDate(0, 0, -7), To: midnight.AddDate(0, 0, -6), Interval: 24 * time.Hour}, b[0])
	require.Equal(t, midnight, b[6].To)
	// 10 h 30 min in hourly buckets: 10 whole ones
	w = WindowsAt(end, 10*time.Hour+30*time.Minute, time.Hour)
	require.Equal(t, 10, w.Buckets())
	require.Equal(t, time.Date(2026, 3, 18, 17, 0, 0, 0, time.UTC), w.Current.To)
}

// byBucket turns per-key series into the counts of each bucket, as the engine's table of one
// bucket answers them: only the keys counted in it.
func byBucket(series map[string][]int64, n int) [][]Count {
	out := make([][]Count, n)
	for asn, values := range series {
		for b, v := range values {
			if v != 0 {
				out[b] = append(out[b], Count{map[string]string{"asn": asn}, v})
			}
		}
	}
	return out
}

// keys of known linear growth: A grows 10 a day, B is constant, C falls 5 a day, D is new and
// E is gone.
func seeded(t *testing.T) []Key {
	lbl := func(asn string) map[string]string { return map[string]string{"asn": asn} }
	keys, err := Join(
		[]Count{{lbl("A"), 280}, {lbl("B"), 70}, {lbl("C"), 140}, {lbl("D"), 21}},
		[]Count{{lbl("B"), 70}, {lbl("C"), 245}, {lbl("A"), 100}, {lbl("E"), 9}},
		byBucket(map[string][]int64{
			"A": {10, 20, 30, 40, 50, 60, 70},
			"B": {10, 10, 10, 10, 10, 10, 10},
			"C": {35, 30, 25, 20, 15, 10, 5},
			"D": {0, 0, 0, 0, 0, 7, 14},
		}, 7), 7)
	require.NoError(t, err)
	return keys
}

func TestJoin(t *testing.T) {
	keys := seeded(t)
	require.Len(t, keys, 5)
	byKey := map[string]Key{}
	for _, k := range keys {
		byKey[k.Labels["asn"]] = k
	}
	require.Equal(t, int64(100), byKey["A"].Previous)
	require.Equal(t, []int64{0, 0, 0, 0, 0, 7, 14}, byKey["D"].Series, "absent from a bucket: 0 there")
	require.Equal(t, int64(0), byKey["D"].Previous, "new in the current window")
	require.Equal(t, Key{Labels: map[string]string{"asn": "E"}, Previous: 9, Series: make([]int64, 7)}, byKey["E"],
		"gone from the current window: 0 now and in every bucket")
	require.Equal(t, "E", keys[4].Labels["asn"], "keys of the current window come first")

	_, err := Join([]Count{{map[string]string{"asn": "A"}, 3}}, []Count{{map[string]string{"asn": "E"}, 9}},
		[][]Count{{{map[string]string{"asn": "E"}, 1}}}, 1)
	require.ErrorContains(t, err, "has no total in the current window", "a bucket's key outside the current totals")
	_, err = Join([]Count{{map[string]string{"asn": "A"}, 3}}, nil,
		[][]Count{{{map[string]string{"asn": "A", "asn_name": "X"}, 1}}}, 1)
	require.Error(t, err, "labels that differ from the totals' columns are not silently zeros")
	_, err = Join(nil, nil, make([][]Count, 3), 2)
	require.Error(t, err, "more buckets than the window holds")
}

func TestComputeAndRank(t *testing.T) {
	rows := Compute(seeded(t), 24*time.Hour)
	byKey := map[string]Row{}
	for _, r := range rows {
		byKey[r.Labels["asn"]] = r
	}
	a := byKey["A"]
	require.Equal(t, int64(180), a.Change)
	require.InDelta(t, 1.8, *a.ChangeRatio, 1e-12)
	require.InDelta(t, 10.0, a.SlopePerDay, 1e-12)
	require.Zero(t, *byKey["B"].ChangeRatio)
	require.Zero(t, byKey["B"].SlopePerDay)
	require.InDelta(t, -5.0, byKey["C"].SlopePerDay, 1e-12)
	require.InDelta(t, -105.0/245, *byKey["C"].ChangeRatio, 1e-12)
	require.Nil(t, byKey["D"].ChangeRatio, "no ratio to a previous 0")
	require.InDelta(t, -1.0, *byKey["E"].ChangeRatio, 1e-12)

	names := func(rows []Row) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.Labels["asn"])
		}
		return out
	}
	// D: 7·(−1+… ) slope over 0,0,0,0,0,7,14: Σdx·y = 2·7 + 3·14 = 56, /28 = 2 a day
	require.InDelta(t, 2.0, byKey["D"].SlopePerDay, 1e-12)
	require.Equal(t, []string{"A", "D"}, names(Rank(rows, Rising, 0)), "B is flat: neither rising nor falling")
	require.Equal(t, []string{"A"}, names(Rank(rows, Rising, 1)))
	require.Equal(t, []string{"C"}, names(Rank(rows, Falling, 15)),
		"E vanished, but its current window is all zeros: no slope")

	// hourly buckets: a slope of 1 per hour is 24 per day
	hourly := Compute([]Key{{Labels: map[string]string{"asn": "H"}, Series: []int64{1, 2, 3, 4, 5, 6}}}, time.Hour)
	require.InDelta(t, 24.0, hourly[0].SlopePerDay, 1e-12)
}

func TestRankTies(t *testing.T) {
	lbl := func(asn string) map[string]string { return map[string]string{"asn": asn} }
	rows := []Row{
		{Labels: lbl("2"), SlopePerDay: 3, Change: 5},
		{Labels: lbl("1"), SlopePerDay: 3, Change: 5},
		{Labels: lbl("3"), SlopePerDay: 3, Change: 9},
		{Labels: lbl("4"), SlopePerDay: -3, Change: -9},
		{Labels: lbl("5"), SlopePerDay: -3, Change: -1},
	}
	var got []string
	for _, r := range Rank(rows, Rising, 0) {
		got = append(got, r.Labels["asn"])
	}
	require.Equal(t, []string{"3", "1", "2"}, got, "ties: larger change, then key")
	got = got[:0]
	for _, r := range Rank(rows, Falling, 0) {
		got = append(got, r.Labels["asn"])
	}
	require.Equal(t, []string{"4", "5"}, got)
}

func TestFrame(t *testing.T) {
	w := WindowsAt(time.Date(2026, 3, 18, 0, 0, 0, 0, time.UTC), 7*24*time.Hour, 24*time.Hour)
	keys := seeded(t)
	for _, k := range keys { // text keys: the seeded ASNs are letters
		k.Labels["country"] = k.Labels["asn"]
		delete(k.Labels, "asn")
	}
	tbl := Table{Columns: []string{"country"}, Windows: w, Rows: Compute(keys, 24*time.Hour)}
	// The table travels through the cache as JSON, a missing ratio as null.
	b, err := json.Marshal(tbl)
	require.NoError(t, err)
	require.Contains(t, string(b), `"changeRatio":null`)
	var back Table
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, tbl, back)

	rows := Rank(back.Rows, Rising, 0)
	f, err := back.Frame("Rising incidents by country", rows, "")
	require.NoError(t, err)
	var names []string
	for _, fd := range f.Fields {
		names = append(names, fd.Name)
	}
	require.Equal(t, []string{"country", "current", "previous", "change", "change_ratio", "slope_per_day", "buckets"}, names)
	require.Equal(t, data.FrameTypeNumericLong, f.Meta.Type)
	require.Equal(t, "D", f.Fields[0].At(1))
	require.Nil(t, f.Fields[4].At(1), "D is new: no ratio")
	require.Equal(t, int64(7), f.Fields[6].At(0))
	_, err = f.MarshalJSON()
	require.NoError(t, err, "a frame with a missing ratio still encodes")

	f, err = back.Frame("Rising incidents by country", rows, SlopePerDay)
	require.NoError(t, err)
	require.Len(t, f.Fields, 2, "a numeric answer: the key and one number")
	require.Equal(t, "slope_per_day", f.Fields[1].Name)
	require.InDelta(t, 10.0, f.Fields[1].At(0), 1e-12)
	_, err = back.Frame("x", rows, "bananas")
	require.Error(t, err)

	// An ASN is a number in a table, as in every stats table, and text in a numeric answer,
	// where Grafana makes labels of text columns.
	asns := Table{Columns: []string{"asn", "asn_name"}, Windows: w, Rows: []Row{{Labels: map[string]string{"asn": "64500", "asn_name": "EXAMPLE-NET"}}}}
	f, err = asns.Frame("t", asns.Rows, "")
	require.NoError(t, err)
	require.Equal(t, int64(64500), *f.Fields[0].At(0).(*int64))
	require.Equal(t, "EXAMPLE-NET", f.Fields[1].At(0))
	f, err = asns.Frame("n", asns.Rows, Current)
	require.NoError(t, err)
	require.Equal(t, "64500", f.Fields[0].At(0))
}
