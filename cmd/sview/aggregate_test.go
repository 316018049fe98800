package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/testenv"
)

// TestAggregateCommands drives aggregate, backfill and status end to end on a fresh database.
func TestAggregateCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.DatabaseURL(t)
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		INSERT INTO identity (id, sn, device_token) VALUES (1, 'sn1', repeat('a', 64));
		INSERT INTO incidents (time, identity_id, trap, action, ip)
			SELECT '2024-05-01'::timestamptz + interval '7 minutes' * i, 1, 'minipot_ftp', 'login', '192.0.2.7'
			FROM generate_series(0, 399) i`)
	require.NoError(t, err)

	var stdout, stderr bytes.Buffer
	e := &env{databaseURL: url, logger: slog.New(slog.NewTextHandler(io.Discard, nil)), stdout: &stdout, stderr: &stderr}
	call := func(cmd func(context.Context, *env, []string) error, args ...string) error {
		stdout.Reset()
		stderr.Reset()
		return cmd(ctx, e, args)
	}

	require.NoError(t, call(cmdAggregate, "quarterly", "--from", "2024-05-01", "--to", "2024-05-01T06:00:00Z"))
	require.Contains(t, stdout.String(), "incidents  quarterly  2024-05-01 00:00:00  2024-05-01 06:00:00  52")

	require.NoError(t, call(cmdBackfill, "--from", "2024-05-01", "--to", "2024-05-03"))
	require.Contains(t, stderr.String(), "rows/s")
	require.Contains(t, stdout.String(), "backfill of 2024-05-01T00:00:00Z..2024-05-03T00:00:00Z done")

	require.NoError(t, call(cmdStatus, "--json"))
	var s rollupstate.Status
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &s))
	require.Len(t, s.Watermarks, 9)
	require.Equal(t, time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC), s.Watermarks[0].Watermark.UTC())
	require.NoError(t, call(cmdStatus))
	require.Contains(t, stdout.String(), "rollup:incidents:daily")

	var total int64
	require.NoError(t, conn.QueryRow(ctx, "SELECT sum(raw_count) FROM incidents_daily").Scan(&total))
	require.Equal(t, int64(400), total)

	for _, c := range []struct {
		cmd  func(context.Context, *env, []string) error
		args []string
		want string
	}{
		{cmdAggregate, nil, "want a precision"},
		{cmdAggregate, []string{"weekly"}, `precision "weekly"`},
		{cmdAggregate, []string{"hourly", "--from", "2024-05-01"}, "give both --from and --to"},
		{cmdAggregate, []string{"hourly", "--from", "yesterday", "--to", "2024-05-02"}, `time "yesterday"`},
		{cmdBackfill, nil, "--from is required"},
		{cmdBackfill, []string{"--from", "2024-05-02", "--to", "2024-05-01"}, "--to must be after --from"},
		{cmdRun, []string{"--retain", "incidents=forever"}, `duration "forever"`},
	} {
		require.ErrorContains(t, call(c.cmd, c.args...), c.want, "%v", c.args)
	}
}
