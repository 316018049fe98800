package stats

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/catalog"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/testenv"
)

// fakeEngine records which queries it computed; the watermark it reports is settable.
type fakeEngine struct {
	mu   sync.Mutex
	runs []string
	wm   time.Time
}

func (f *fakeEngine) Run(_ context.Context, q query.Query, _ period.Range) (data.Frames, time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, q.Metric+" "+q.Period)
	return data.Frames{data.NewFrame(q.Metric, data.NewField("count", nil, []int64{int64(len(f.runs))}))}, f.wm, nil
}

func (f *fakeEngine) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.runs)
}

func memoryCache(t *testing.T) *cache.Cache {
	c, err := cache.Open(nil, cache.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c
}

func TestStatsWatermarkRefresh(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t)
	wm0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	_, err := pool.Exec(ctx, "INSERT INTO rollup_watermarks (source, precision, watermark) VALUES ('incidents', 'hourly', $1)", wm0)
	require.NoError(t, err)
	eng := &fakeEngine{wm: wm0}
	s := New(Config{Cache: memoryCache(t), DB: pool, Engine: eng})
	q, err := query.Parse([]byte(`{"queryType":"stats","preset":"all_attackers_graph","period":"1w"}`))
	require.NoError(t, err)

	r, err := s.Query(ctx, q, period.Range{}, false)
	require.NoError(t, err)
	require.Equal(t, cache.StateMiss, r.State)
	require.Equal(t, "all_attackers_graph 1w", r.Label)
	r, err = s.Query(ctx, q, period.Range{}, false)
	require.NoError(t, err)
	require.Equal(t, cache.StateHit, r.State)

	_, err = pool.Exec(ctx, "UPDATE rollup_watermarks SET watermark = $1", wm0.Add(time.Hour))
	require.NoError(t, err)
	eng.mu.Lock()
	eng.wm = wm0.Add(time.Hour)
	eng.mu.Unlock()
	require.Eventually(t, func() bool {
		r, err := s.Query(ctx, q, period.Range{}, false)
		return err == nil && r.State == cache.StateStale
	}, 5*time.Second, 100*time.Millisecond, "a moved watermark makes the hit stale")
	require.Eventually(t, func() bool {
		r, err := s.Query(ctx, q, period.Range{}, false)
		return err == nil && r.State == cache.StateHit && r.Watermark.Equal(wm0.Add(time.Hour))
	}, 5*time.Second, 50*time.Millisecond, "the refreshed entry carries the new watermark")
}

func TestWarmer(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t)
	eng := &fakeEngine{}
	w := New(Config{Cache: memoryCache(t), DB: pool, Engine: eng})

	_, err := Targets([]string{"no_such_preset"}, nil)
	require.ErrorIs(t, err, ErrUnknownTarget)
	_, err = Targets(nil, []string{"2w"})
	require.ErrorIs(t, err, ErrUnknownTarget)
	_, err = Targets([]string{"selected_attacker_incidents_graph"}, nil)
	require.ErrorIs(t, err, ErrUnknownTarget, "a preset that needs an IP cannot be warmed")

	all, err := Targets(nil, nil)
	require.NoError(t, err)
	precached := 0
	for _, p := range catalog.All {
		if p.Precached {
			precached++
		}
	}
	require.Len(t, all, precached*len(period.All))

	one, err := Targets([]string{"all_incidents_graph"}, []string{"1h", "1w"})
	require.NoError(t, err)
	rep, err := w.Warm(ctx, one, WarmOptions{DryRun: true})
	require.NoError(t, err)
	require.Equal(t, WarmReport{Planned: 2}, rep)
	require.Zero(t, eng.count(), "a dry run computes nothing")

	var seen []string
	rep, err = w.Warm(ctx, one, WarmOptions{OnlyDue: true, Progress: func(t Target, o Outcome, _ time.Duration, _ error) {
		seen = append(seen, t.Preset+" "+t.Period+" "+string(o))
	}})
	require.NoError(t, err)
	require.Equal(t, WarmReport{Computed: 2}, rep)
	require.Equal(t, []string{"all_incidents_graph 1h computed", "all_incidents_graph 1w computed"}, seen)

	rep, err = w.Warm(ctx, one, WarmOptions{OnlyDue: true})
	require.NoError(t, err)
	require.Equal(t, WarmReport{Fresh: 2}, rep, "fresh entries are not recomputed by refresh")

	n, err := w.WarmSource(ctx, "incidents", period.Hourly)
	require.NoError(t, err)
	want := 0
	for _, tg := range all {
		p, _ := period.Lookup(tg.Period)
		if tg.query.Table() == "incidents" && p.Source == period.Hourly {
			want++
		}
	}
	require.Positive(t, want)
	require.Equal(t, want, n)
}

func TestStatsFreshnessRules(t *testing.T) {
	s := New(Config{TTL: map[string]time.Duration{"1w": time.Hour}, Engine: &fakeEngine{}})
	q, err := query.Parse([]byte(`{"queryType":"stats","preset":"all_attackers_graph","period":"1w"}`))
	require.NoError(t, err)
	req := s.request(q, period.Range{})
	require.Equal(t, time.Hour, req.TTL, "the override replaces the period's 4 h")
	require.Equal(t, 3*time.Hour, req.RefreshAfter)
	require.NotNil(t, req.Watermark, "rollup-sourced periods follow the watermark")

	q.Period = "1h"
	req = s.request(q, period.Range{})
	require.Equal(t, 5*time.Minute, req.TTL)
	require.Nil(t, req.Watermark, "raw sources have no watermark")

	q.Period = ""
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	req = s.request(q, period.Range{From: from, To: from.Add(24 * time.Hour), Interval: 10 * time.Minute})
	require.Equal(t, 10*time.Minute, req.RefreshAfter)
	require.Equal(t, 20*time.Minute, req.TTL)
	require.Contains(t, req.Label, "all_attackers_graph 2026-11-01T00:00:00Z..")
}
