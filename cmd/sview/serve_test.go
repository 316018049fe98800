package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/devserver"
	"github.com/sview-project/sview/internal/testenv"
)

// TestServeRefreshAndCacheCommands drives serve.go end to end: the API answers and stops on
// cancellation, and the cache commands warm, list and clear a Redis key space of their own.
func TestServeRefreshAndCacheCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "")
	c.e.redisURL = testenv.RedisURL(t) + "?key_prefix=" + testenv.KeyPrefix(t)
	run := func(args ...string) (string, error) {
		err := c.call(cmdCache, args...)
		return c.stdout.String(), err
	}

	out, err := run("warm", "all_attackers_graph", "1w")
	require.NoError(t, err, c.stderr.String())
	require.Contains(t, out, "[1/1] computed  all_attackers_graph 1w")
	out, err = run("ls")
	require.NoError(t, err)
	require.Contains(t, out, "all_attackers_graph 1w")
	require.Contains(t, out, "1 entries")

	out = c.run(cmdRefresh, "--dry-run")
	require.Contains(t, out, "fresh     all_attackers_graph 1w")
	// every precached preset (the original's 23 and sview's 4) at the 7 periods, less the fresh one
	require.Contains(t, out, "0 computed, 1 fresh, 188 planned, 0 failed")

	out, err = run("clear")
	require.NoError(t, err)
	require.Contains(t, out, "deleted 1 keys")
	_, err = run("warm", "no_such_preset")
	require.ErrorContains(t, err, `preset "no_such_preset"`)
	_, err = run("shuffle")
	require.ErrorContains(t, err, "want warm, ls or clear")

	port, err := devserver.FreePort()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmdServe(ctx, c.e, []string{"--listen", fmt.Sprintf("127.0.0.1:%d", port)}) }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	require.Eventually(t, func() bool { return devserver.Answers(fmt.Sprintf("127.0.0.1:%d", port)) }, 10*time.Second, 20*time.Millisecond)
	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.JSONEq(t, `{"status":"ok","database":"ok","cache":{"backend":"redis","degraded":false}}`, string(body))
	resp, err = http.Get(base + "/api/resource?name=all_incidents_graph&period=1h")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	cancel()
	require.NoError(t, <-done, "serve stops cleanly when its context ends")
}
