package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/testenv"
)

// TestIngestAndDemoCommands drives the commands of ingest.go end to end on a fresh database.
func TestIngestAndDemoCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.DatabaseURL(t)
	var stdout, stderr bytes.Buffer
	e := &env{databaseURL: url, logger: slog.New(slog.NewTextHandler(io.Discard, nil)), stdout: &stdout, stderr: &stderr}
	run := func(cmd func(context.Context, *env, []string) error, args ...string) string {
		t.Helper()
		stdout.Reset()
		stderr.Reset()
		require.NoError(t, cmd(ctx, e, args), stderr.String())
		return stdout.String()
	}

	out := run(cmdImport, "geo", "--show-bad", "1", "../../internal/geo/testdata/mixed.tsv")
	require.Contains(t, out, "7 bad; 9 prefixes loaded")
	require.Contains(t, out, "bad line 4:")
	require.Contains(t, out, "and 6 more bad lines")

	// Flags after the file are read too.
	out = run(cmdIngest, "sshd", "../../internal/ingest/testdata/auth.log", "--year", "2024", "--quiet",
		"--sn", "gw-1", "--token", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	require.Contains(t, out, "14 lines (7 ok, 3 bad, 4 skipped)")
	require.Contains(t, out, "bad line 6:")
	out = run(cmdIngest, "sshd", "--year", "2024", "../../internal/ingest/testdata/auth.log")
	require.Contains(t, out, "already ingested")

	require.Error(t, cmdIngest(ctx, e, []string{"minipot"}))
	require.ErrorContains(t, cmdIngest(ctx, e, []string{"json", "x"}), "unknown format")
	require.ErrorContains(t, cmdIngest(ctx, e, []string{"minipot", "-", "--follow"}), "--follow needs a file")

	out = run(cmdDemo, "seed", "--days", "2", "--per-day", "500", "--end", "2026-01-10", "--seed", "3", "--probes", "20", "--quiet")
	require.Contains(t, out, "demo seed: 1000 incidents")
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var first, last time.Time
	require.NoError(t, conn.QueryRow(ctx, "SELECT min(time), max(time) FROM incidents WHERE trap <> 'faillogs'").Scan(&first, &last))
	require.False(t, first.Before(time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC)))
	require.True(t, last.Before(time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)))

	lctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	stdout.Reset()
	require.NoError(t, cmdDemo(lctx, e, []string{"live", "--rate", "50", "--probes", "20"}))
	require.Contains(t, stdout.String(), "demo live:")
	require.ErrorContains(t, cmdDemo(ctx, e, []string{"replay"}), "unknown action")
	require.ErrorContains(t, cmdDemo(ctx, e, []string{"seed", "--days", "0"}), "days must be at least 1")
}
