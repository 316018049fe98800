package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/leak"
	"github.com/sview-project/sview/internal/testenv"
)

// rangeServers serves the seeded data twice: from a RangeStore and from the database alone.
func rangeServers(t *testing.T, limits Limits) (stored, direct *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	admin := testenv.Pool(t)
	seed(t, admin)
	// A build (of the seeded capture of 123456) gives the store a Last-Modified.
	_, err := leak.Build(ctx, admin, leak.Options{})
	require.NoError(t, err)
	pool := readerPool(t, admin)
	store, err := leak.OpenRangeStore(ctx, pool, leak.RangeStoreOptions{Refresh: 20 * time.Millisecond})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { store.Run(runCtx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	stored = httptest.NewServer(Public(Deps{DB: pool, Ranges: store, Limits: limits}))
	t.Cleanup(stored.Close)
	direct = httptest.NewServer(Public(Deps{DB: pool, Limits: limits}))
	t.Cleanup(direct.Close)
	return stored, direct
}

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	return send(t, req, header...)
}

func TestRangeFromStore(t *testing.T) {
	t.Parallel()
	stored, direct := rangeServers(t, Limits{Rate: -1})
	pw := sha1Hex("password")
	for _, prefix := range []string{pw[:5], strings.ToUpper(sha1Hex("123456")[:5]), "00000", "FFFFF"} {
		resp, body := get(t, stored.URL+"/range/"+prefix)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		_, want := get(t, direct.URL+"/range/"+prefix)
		require.Equal(t, want, body, "the same answer as the database gives")
		require.Equal(t, "public, max-age=300", resp.Header.Get("Cache-Control"))
		require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
		require.Equal(t, "Add-Padding", resp.Header.Get("Vary"))
		require.Regexp(t, `^"[0-9a-z]+"$`, resp.Header.Get("ETag"))
		modified, err := http.ParseTime(resp.Header.Get("Last-Modified"))
		require.NoError(t, err)
		require.WithinDuration(t, time.Now(), modified, time.Minute, "the build just ran")
	}
	_, body := get(t, stored.URL+"/range/"+pw[:5])
	require.Contains(t, body, strings.ToUpper(pw[5:])+":100\r\n")
	_, body = get(t, stored.URL+"/range/"+sha1Hex("123456")[:5])
	require.Contains(t, body, strings.ToUpper(sha1Hex("123456")[5:])+":51\r\n", "the seeded 50 and the built capture")

	for path, want := range map[string]string{"/range/12345G": "5 hex characters", "/range/ABC": "5 hex characters", "/range/5BAA6?mode=ntlm": "only mode=sha1"} {
		resp, body := get(t, stored.URL+path)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, path)
		require.Contains(t, body, want, path)
	}
}

func TestRangeConditional(t *testing.T) {
	t.Parallel()
	stored, _ := rangeServers(t, Limits{Rate: -1})
	url := stored.URL + "/range/" + sha1Hex("password")[:5]
	resp, _ := get(t, url)
	etag, modified := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	require.NotEmpty(t, etag)
	require.NotEmpty(t, modified)
	mt, err := http.ParseTime(modified)
	require.NoError(t, err)
	before := mt.Add(-time.Hour).Format(http.TimeFormat)

	tests := []struct {
		name   string
		header []string
		want   int
	}{
		{"etag", []string{"If-None-Match", etag}, http.StatusNotModified},
		{"weak etag", []string{"If-None-Match", "W/" + etag}, http.StatusNotModified},
		{"etag in a list", []string{"If-None-Match", `"old", ` + etag}, http.StatusNotModified},
		{"etag in a second header", []string{"If-None-Match", `"old"`, "If-None-Match", etag}, http.StatusNotModified},
		{"any", []string{"If-None-Match", "*"}, http.StatusNotModified},
		{"other etag", []string{"If-None-Match", `"old"`}, http.StatusOK},
		{"not modified since", []string{"If-Modified-Since", modified}, http.StatusNotModified},
		{"modified since", []string{"If-Modified-Since", before}, http.StatusOK},
		{"bad date", []string{"If-Modified-Since", "yesterday"}, http.StatusOK},
		// RFC 9110: If-None-Match, when present, decides alone.
		{"other etag wins over the date", []string{"If-None-Match", `"old"`, "If-Modified-Since", modified}, http.StatusOK},
		{"padded etag", []string{"Add-Padding", "true", "If-None-Match", etag}, http.StatusNotModified},
		{"padded date", []string{"Add-Padding", "true", "If-Modified-Since", modified}, http.StatusNotModified},
		{"padded other etag", []string{"Add-Padding", "true", "If-None-Match", `"old"`}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, url, tt.header...)
			require.Equal(t, tt.want, resp.StatusCode)
			require.Equal(t, "public, max-age=300", resp.Header.Get("Cache-Control"))
			require.Equal(t, modified, resp.Header.Get("Last-Modified"))
			if tt.want == http.StatusNotModified {
				require.Empty(t, body)
				require.Contains(t, []string{etag, "W/" + etag}, resp.Header.Get("ETag"))
			} else {
				require.NotEmpty(t, body)
			}
		})
	}
}

// A padded answer is new on every request: its ETag is the weak form of the unpadded one, so it
// tells nothing of how many lines are real.
func TestRangeFromStorePadded(t *testing.T) {
	t.Parallel()
	stored, _ := rangeServers(t, Limits{Rate: -1})
	pw := sha1Hex("password")
	resp, _ := get(t, stored.URL+"/range/"+pw[:5])
	etag := resp.Header.Get("ETag")
	sizes := map[int]bool{}
	for _, prefix := range []string{pw[:5], "00000"} {
		for range 10 {
			resp, body := get(t, stored.URL+"/range/"+prefix, "Add-Padding", "true")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, "Add-Padding", resp.Header.Get("Vary"))
			require.True(t, strings.HasPrefix(resp.Header.Get("ETag"), `W/"`))
			require.Zero(t, len(body)%leak.PaddedLineLen)
			n := len(body) / leak.PaddedLineLen
			require.True(t, n >= leak.PadMin && n <= leak.PadMax, "%s: %d lines", prefix, n)
			sizes[n] = true
			zero := strings.Count(body, ":0000000000\r\n")
			if prefix == pw[:5] {
				require.Equal(t, "W/"+etag, resp.Header.Get("ETag"))
				require.Contains(t, body, strings.ToUpper(pw[5:])+":0000000100\r\n")
				require.Equal(t, n-1, zero)
			} else {
				require.Equal(t, n, zero)
			}
		}
	}
	require.Greater(t, len(sizes), 5, "sizes vary")
}

func TestRangeFromStoreRateLimited(t *testing.T) {
	t.Parallel()
	stored, _ := rangeServers(t, Limits{Rate: 1, Burst: 2})
	for range 2 {
		resp, _ := get(t, stored.URL+"/range/00000")
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	resp, _ := get(t, stored.URL+"/range/00000")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
}
