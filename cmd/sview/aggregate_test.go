package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/rollupstate"
)

// TestAggregateCommands drives aggregate, backfill and status end to end on a fresh database.
func TestAggregateCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t, `
		INSERT INTO identity (id, sn, device_token) VALUES (1, 'sn1', repeat('a', 64));
		INSERT INTO incidents (time, identity_id, trap, action, ip)
			SELECT '2024-05-01'::timestamptz + interval '7 minutes' * i, 1, 'minipot_ftp', 'login', '192.0.2.7'
			FROM generate_series(0, 399) i`)

	require.NoError(t, c.call(cmdAggregate, "quarterly", "--from", "2024-05-01", "--to", "2024-05-01T06:00:00Z"))
	require.Contains(t, c.stdout.String(), "incidents  quarterly  2024-05-01 00:00:00  2024-05-01 06:00:00  52")

	require.NoError(t, c.call(cmdBackfill, "--from", "2024-05-01", "--to", "2024-05-03"))
	require.Contains(t, c.stderr.String(), "rows/s")
	require.Contains(t, c.stdout.String(), "backfill of 2024-05-01T00:00:00Z..2024-05-03T00:00:00Z done")

	require.NoError(t, c.call(cmdStatus, "--json"))
	var s rollupstate.Status
	require.NoError(t, json.Unmarshal(c.stdout.Bytes(), &s))
	require.Len(t, s.Watermarks, 9)
	require.Equal(t, time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC), s.Watermarks[0].Watermark.UTC())
	require.NoError(t, c.call(cmdStatus))
	require.Contains(t, c.stdout.String(), "rollup:incidents:daily")

	var total int64
	require.NoError(t, c.db.QueryRow(c.ctx, "SELECT sum(raw_count) FROM incidents_daily").Scan(&total))
	require.Equal(t, int64(400), total)

	for _, tc := range []struct {
		cmd  cmdFunc
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
		require.ErrorContains(t, c.call(tc.cmd, tc.args...), tc.want, "%v", tc.args)
	}
}
