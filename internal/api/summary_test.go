package api

import (
	"context"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/aggregator"
	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/stats"
	"github.com/sview-project/sview/internal/summary"
	"github.com/sview-project/sview/internal/testenv"
)

// summaryFixture serves a database with incidents on 31 August, 20 September and 5 October
// 2026, rolled up as of noon on 1 November: August to October have summaries. It reads as the reader
// role, as `sview serve` does.
func summaryFixture(t *testing.T, limits Limits) fixture {
	t.Helper()
	ctx := context.Background()
	admin := testenv.Pool(t)
	for _, s := range []string{
		`INSERT INTO identity (id, sn, device_token) VALUES (1, '0000000000000001', repeat('ab', 32))`,
		`INSERT INTO geo_prefixes (network, asn, country, as_name) VALUES ('192.0.2.0/24', 64500, 'CZ', 'EXAMPLE-NET')`,
		`INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn) VALUES
			('2026-08-31T10:00:00Z', 1, 1, 'minipot_telnet', 'login', '192.0.2.1', 'CZ', 64500),
			('2026-09-20T10:00:00Z', 3, 1, 'minipot_telnet', 'login', '192.0.2.1', 'CZ', 64500),
			('2026-10-05T10:00:00Z', 5, 1, 'minipot_telnet', 'login', '192.0.2.1', 'CZ', 64500),
			('2026-11-01T02:00:00Z', 9, 1, 'minipot_telnet', 'login', '192.0.2.1', 'CZ', 64500)`,
	} {
		_, err := admin.Exec(ctx, s)
		require.NoError(t, err)
	}
	agg, err := aggregator.New(admin, aggregator.Config{Now: func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) }})
	require.NoError(t, err)
	require.NoError(t, agg.CatchUp(ctx, period.Quarterly))

	pool := readerPool(t, admin)
	c, err := cache.New(cache.Options{Backend: mustMemory(t)})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	st := stats.New(stats.Config{DB: pool, Cache: c})
	srv := httptest.NewServer(Public(Deps{DB: pool, Stats: st, Summaries: summary.NewPublisher(pool, st), Limits: limits}))
	t.Cleanup(srv.Close)
	return fixture{srv: srv}
}

func TestMonthlySummaryRoutes(t *testing.T) {
	t.Parallel()
	f := summaryFixture(t, Limits{Rate: -1})
	const base = "/api/reports/monthly/"

	for _, path := range []string{base, strings.TrimSuffix(base, "/")} {
		resp, body := f.do(t, "GET", path, "", "")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		require.Equal(t, "public, max-age=300", resp.Header.Get("Cache-Control"))
		require.JSONEq(t, `{"data_from":"2026-08-31T00:00:00Z","final_through":"2026-11-01T00:00:00Z","months":[
			{"month":"2026-10","title":"October 2026","markdown":"/api/reports/monthly/2026-10/summary.md","csv":"/api/reports/monthly/2026-10/summary.csv",
			 "charts":{"incidents-per-day":"/api/reports/monthly/2026-10/charts/incidents-per-day.png","top-countries":"/api/reports/monthly/2026-10/charts/top-countries.png","top-ports":"/api/reports/monthly/2026-10/charts/top-ports.png"}},
			{"month":"2026-09","title":"September 2026","markdown":"/api/reports/monthly/2026-09/summary.md","csv":"/api/reports/monthly/2026-09/summary.csv",
			 "charts":{"incidents-per-day":"/api/reports/monthly/2026-09/charts/incidents-per-day.png","top-countries":"/api/reports/monthly/2026-09/charts/top-countries.png","top-ports":"/api/reports/monthly/2026-09/charts/top-ports.png"}},
			{"month":"2026-08","title":"August 2026","markdown":"/api/reports/monthly/2026-08/summary.md","csv":"/api/reports/monthly/2026-08/summary.csv",
			 "charts":{"incidents-per-day":"/api/reports/monthly/2026-08/charts/incidents-per-day.png","top-countries":"/api/reports/monthly/2026-08/charts/top-countries.png","top-ports":"/api/reports/monthly/2026-08/charts/top-ports.png"}}]}`, body)
	}

	tests := []struct {
		name, path, ctype string
		status            int
		contain           []string
	}{
		{"markdown", base + "2026-10/summary.md", "text/markdown; charset=utf-8", 200,
			[]string{"# Sentinel network summary: October 2026", "| Incidents | 5 | 3 | +66.7% |", "| 1 | 64500 | EXAMPLE\\-NET | 5 | 100.0% |"}},
		{"csv", base + "2026-10/summary.csv", "text/csv; charset=utf-8", 200,
			[]string{"month,section,rank,key,name,value,previous\n", "2026-10,totals,,incidents,,5,3\n", "2026-10,top_countries,1,CZ,,5,\n"}},
		{"first month", base + "2026-08/summary.md", "text/markdown; charset=utf-8", 200,
			[]string{"The data starts on 2026-08-31", "| Incidents | 1 | n/a | n/a |", "July 2026 is not compared"}},
		{"bad month", base + "2026-13/summary.md", "application/json", 400, []string{`invalid month \"2026-13\": want YYYY-MM`}},
		{"bad month spelling", base + "2026-1/charts/top-ports.png", "application/json", 400, []string{"invalid month"}},
		{"before the data", base + "2026-07/summary.md", "application/json", 404, []string{"2026-07 ends before the data starts on 2026-08-31"}},
		{"month not over", base + "2026-11/summary.csv", "application/json", 404,
			[]string{"published once the daily rollups have closed the month; they are final up to 2026-11-01T00:00:00Z"}},
		{"future month", base + "2030-01/summary.md", "application/json", 404, []string{"not final"}},
		{"unknown file", base + "2026-10/summary.pdf", "application/json", 404, []string{`no such file in a monthly summary \"summary.pdf\"`}},
		{"unknown chart", base + "2026-10/charts/pie.png", "application/json", 404, []string{"charts/top-ports.png"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.do(t, "GET", tc.path, "", "")
			require.Equal(t, tc.status, resp.StatusCode, body)
			require.Equal(t, tc.ctype, resp.Header.Get("Content-Type"))
			for _, c := range tc.contain {
				require.Contains(t, body, c)
			}
			if tc.status == http.StatusOK {
				require.Equal(t, "public, max-age=86400", resp.Header.Get("Cache-Control"))
				require.NotEmpty(t, resp.Header.Get("ETag"))
			}
		})
	}

	for _, c := range summary.Charts {
		resp, body := f.do(t, "GET", base+"2026-10/charts/"+c+".png", "", "")
		require.Equal(t, http.StatusOK, resp.StatusCode, c)
		require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
		require.Equal(t, `inline; filename="sview-2026-10-charts-`+c+`.png"`, resp.Header.Get("Content-Disposition"))
		img, err := png.Decode(strings.NewReader(body))
		require.NoError(t, err, c)
		require.Equal(t, summary.ChartWidth, img.Bounds().Dx())
		require.Equal(t, summary.ChartHeight, img.Bounds().Dy())
	}
}

func TestMonthlySummaryRevalidation(t *testing.T) {
	t.Parallel()
	f := summaryFixture(t, Limits{Rate: -1})
	for _, path := range []string{"/api/reports/monthly/", "/api/reports/monthly/2026-10/summary.md", "/api/reports/monthly/2026-10/charts/top-countries.png"} {
		resp, body := f.do(t, "GET", path, "", "")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		tag := resp.Header.Get("ETag")
		require.Regexp(t, `^"[0-9a-f]{32}"$`, tag)

		resp, body = f.do(t, "GET", path, "", "", "If-None-Match", tag)
		require.Equal(t, http.StatusNotModified, resp.StatusCode, path)
		require.Empty(t, body)
		require.Equal(t, tag, resp.Header.Get("ETag"))

		resp, body = f.do(t, "GET", path, "", "", "If-None-Match", `"other"`)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.NotEmpty(t, body)

		resp, body = f.do(t, "HEAD", path, "", "")
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Empty(t, body)
		require.Equal(t, tag, resp.Header.Get("ETag"), "HEAD and GET name the same content")
	}
}

func TestMonthlySummaryIsRateLimited(t *testing.T) {
	t.Parallel()
	f := summaryFixture(t, Limits{Rate: 0.001, Burst: 1})
	resp, _ := f.do(t, "GET", "/api/reports/monthly/2026-10/summary.csv", "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body := f.do(t, "GET", "/api/reports/monthly/2026-10/summary.csv", "", "")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	var e errorBody
	require.NoError(t, json.Unmarshal([]byte(body), &e))
	require.Equal(t, "too many requests; retry later", e.Error)
}
