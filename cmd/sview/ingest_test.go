package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestIngestAndDemoCommands drives the commands of ingest.go end to end on a fresh database.
func TestIngestAndDemoCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "")

	out := c.run(cmdImport, "geo", "--show-bad", "1", "../../internal/geo/testdata/mixed.tsv")
	require.Contains(t, out, "7 bad; 9 prefixes loaded")
	require.Contains(t, out, "bad line 4:")
	require.Contains(t, out, "and 6 more bad lines")

	// Flags after the file are read too.
	out = c.run(cmdIngest, "sshd", "../../internal/ingest/testdata/auth.log", "--year", "2024", "--quiet",
		"--sn", "gw-1", "--token", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	require.Contains(t, out, "14 lines (7 ok, 3 bad, 4 skipped)")
	require.Contains(t, out, "bad line 6:")
	out = c.run(cmdIngest, "sshd", "--year", "2024", "../../internal/ingest/testdata/auth.log")
	require.Contains(t, out, "already ingested")

	require.Error(t, c.call(cmdIngest, "minipot"))
	require.ErrorContains(t, c.call(cmdIngest, "json", "x"), "unknown format")
	require.ErrorContains(t, c.call(cmdIngest, "minipot", "-", "--follow"), "--follow needs a file")

	out = c.run(cmdDemo, "seed", "--days", "2", "--per-day", "500", "--end", "2026-01-10", "--seed", "3", "--probes", "20", "--quiet")
	require.Contains(t, out, "demo seed: 1000 incidents")
	var first, last time.Time
	require.NoError(t, c.db.QueryRow(c.ctx, "SELECT min(time), max(time) FROM incidents WHERE trap <> 'faillogs'").Scan(&first, &last))
	require.False(t, first.Before(time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC)))
	require.True(t, last.Before(time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)))

	lctx, cancel := context.WithTimeout(c.ctx, 1500*time.Millisecond)
	defer cancel()
	c.stdout.Reset()
	require.NoError(t, cmdDemo(lctx, c.e, []string{"live", "--rate", "50", "--probes", "20"}))
	require.Contains(t, c.stdout.String(), "demo live:")
	require.ErrorContains(t, c.call(cmdDemo, "replay"), "unknown action")
	require.ErrorContains(t, c.call(cmdDemo, "seed", "--days", "0"), "days must be at least 1")
}
