package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/greylist"
	"github.com/sview-project/sview/internal/testenv"
)

// TestGreylistAndLeakCommands drives the commands of greylist.go end to end on a fresh database.
func TestGreylistAndLeakCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.DatabaseURL(t)
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		INSERT INTO identity (id, sn, device_token) SELECT i, 'sn' || i, repeat('a', 64) FROM generate_series(1, 3) i;
		INSERT INTO incidents (time, identity_id, trap, action, ip)
			SELECT now() - interval '1 hour' * i, 1 + i % 3, 'minipot_ftp', 'login', '192.0.2.7' FROM generate_series(1, 6) i;
		INSERT INTO passwords (time, username, password, trap)
			SELECT now() - interval '1 hour' * i, 'root', 'letmein', 'minipot_ftp' FROM generate_series(1, 4) i`)
	require.NoError(t, err)

	var stdout, stderr bytes.Buffer
	e := &env{databaseURL: url, logger: slog.New(slog.NewTextHandler(io.Discard, nil)), stdout: &stdout, stderr: &stderr}
	run := func(cmd func(context.Context, *env, []string) error, args ...string) string {
		t.Helper()
		stdout.Reset()
		stderr.Reset()
		require.NoError(t, cmd(ctx, e, args), stderr.String())
		return stdout.String()
	}

	require.Contains(t, run(cmdGreylist, "build", "--days", "2"), "1 addresses (1 added, 0 removed)")
	require.Equal(t, greylist.Comment+"\nAddress,Tags\n192.0.2.7,ftp\n", run(cmdGreylist, "export"))
	out := filepath.Join(t.TempDir(), "greylist-latest.csv")
	run(cmdGreylist, "export", "--out", out)
	body, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, greylist.Comment+"\nAddress,Tags\n192.0.2.7,ftp\n", string(body))
	require.Equal(t, greylist.Comment+"\nAddress,Tags\n", run(cmdGreylist, "export", "--date", "2001-01-01"))

	in := filepath.Join(t.TempDir(), "list.csv")
	require.NoError(t, os.WriteFile(in, []byte("Address,Tags\n198.51.100.1,smtp\nnope,ftp\n"), 0o644))
	require.Contains(t, run(importGreylist, in), "3 lines, 1 loaded, 1 addresses upserted, 1 bad")
	require.Contains(t, stderr.String(), "line 3: address \"nope\"")

	hibp := filepath.Join(t.TempDir(), "B1D5E.txt") // SHA-1 of "letmein" starts with b7a875fc…, so no overlap
	require.NoError(t, os.WriteFile(hibp, []byte(strings.Repeat("A", 35)+":9\n"), 0o644))
	require.Contains(t, run(importPwned, hibp), "(hibp): 1 lines, 1 loaded, 1 hashes merged")
	require.Contains(t, run(cmdLeak, "lookup", "b1d5e"), "b1d5e"+strings.Repeat("a", 35)+" 9 \n")

	require.Contains(t, run(cmdLeak, "build", "--grace", "1m"), "4 raw rows hashed into 1 hashes")
	require.Equal(t, "b7a875fc1ea228b9061041b7cec4bd3c52ab3ce3 4 ftp\n", run(cmdLeak, "lookup", "B7A875"))

	require.ErrorContains(t, cmdLeak(ctx, e, []string{"lookup", "xyz"}), "invalid hash prefix")
	require.ErrorContains(t, cmdGreylist(ctx, e, []string{"build", "--days", "0"}), "want 1 or more")
	require.ErrorContains(t, cmdGreylist(ctx, e, []string{"export", "--date", "yesterday"}), "want YYYY-MM-DD")
	require.ErrorContains(t, importPwned(ctx, e, []string{"--format", "xml", hibp}), "want auto, csv or hibp")
	require.ErrorContains(t, importPwned(ctx, e, []string{}), "want 1 argument(s), got 0")
}
