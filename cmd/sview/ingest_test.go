package main

import (
	"bytes"
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

// TestIngestEcosystemCommands runs the idea, intelmq and haas formats with their flags.
func TestIngestEcosystemCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "")
	out := c.run(cmdIngest, "idea", "../../internal/ingest/testdata/idea.jsonl", "--provider", "CESNET", "--quiet")
	require.Contains(t, out, "13 lines (5 ok, 7 bad, 1 skipped)")
	require.Contains(t, out, "rows: 0 incidents, 0 passwords, 0 ports, 6 feed events, 0 commands; 0 new probes")
	out = c.run(cmdIngest, "intelmq", "--quiet", "../../internal/ingest/testdata/intelmq.jsonl")
	require.Contains(t, out, "4 feed events")
	out = c.run(cmdIngest, "haas", "../../internal/ingest/testdata/haas.jsonl", "--probe", "hp-1", "--quiet")
	require.Contains(t, out, "rows: 3 incidents, 3 passwords, 0 ports, 0 feed events, 3 commands; 2 new probes")
	require.Contains(t, c.run(cmdIngest, "haas", "../../internal/ingest/testdata/haas.jsonl", "--quiet"), "already ingested")

	var n int64
	require.NoError(t, c.db.QueryRow(c.ctx, "SELECT count(*) FROM feed_events WHERE provider = 'CESNET'").Scan(&n))
	require.EqualValues(t, 6, n)
	require.NoError(t, c.db.QueryRow(c.ctx, "SELECT count(*) FROM commands c JOIN identity i ON i.id = c.identity_id WHERE i.sn = 'hp-1'").Scan(&n))
	require.EqualValues(t, 3, n)

	require.ErrorContains(t, c.call(cmdIngest, "intelmq", "../../internal/ingest/testdata/intelmq.jsonl", "--provider", "X"),
		"--provider is for the idea format")

	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"ingest", "--help"}, &stdout, &stderr))
	for _, want := range []string{"sshd|idea|intelmq|haas", "-provider", "-probe"} {
		require.Contains(t, stdout.String(), want)
	}
}
