package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/summary"
)

// TestSummaryCommand backfills October 2024 and writes its summary as the API serves it.
func TestSummaryCommand(t *testing.T) {
	t.Parallel()
	c := newCLI(t, `
		INSERT INTO identity (id, sn, device_token) VALUES (1, 'sn1', repeat('a', 64));
		INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn) VALUES
			('2024-10-05T10:00:00Z', 4, 1, 'minipot_telnet', 'login', '192.0.2.1', 'CZ', 64500),
			('2024-10-31T23:00:00Z', 2, 1, 'fwlogs', 'small_port_scan', '198.51.100.7', 'DE', 64501);
		INSERT INTO ports (time, raw_count, port, protocol, identity_id, ip, country, asn) VALUES
			('2024-10-31T23:00:00Z', 2, 23, 'TCP', 1, '198.51.100.7', 'DE', 64501);`)
	require.NoError(t, c.call(cmdBackfill, "--from", "2024-10-01", "--to", "2024-11-01"))

	dir := filepath.Join(t.TempDir(), "out")
	out := c.run(cmdSummary, "--out", dir)
	for _, name := range summary.FileNames() {
		path := filepath.Join(dir, filepath.FromSlash(name))
		require.Contains(t, out, "wrote "+path)
		info, err := os.Stat(path)
		require.NoError(t, err)
		require.NotZero(t, info.Size(), name)
	}
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	require.NoError(t, err)
	require.Contains(t, string(md), "# Sentinel network summary: October 2024")
	require.Contains(t, string(md), "| Incidents | 6 | n/a | n/a |")
	csv, err := os.ReadFile(filepath.Join(dir, "summary.csv"))
	require.NoError(t, err)
	require.Contains(t, string(csv), "2024-10,top_ports,1,TCP/23,,2,\n")

	require.NoError(t, c.call(cmdSummary, "--month", "2024-10", "--out", dir))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--month", "2024-10"}, "--out DIR is required"},
		{[]string{"--month", "2024-13", "--out", dir}, "invalid month"},
		{[]string{"--month", "2024-11", "--out", dir}, "month not final yet"},
		{[]string{"--month", "2024-09", "--out", dir}, "ends before the data starts on 2024-10-05"},
		{[]string{"--out", dir, "extra"}, `unexpected argument "extra"`},
	} {
		require.ErrorContains(t, c.call(cmdSummary, tc.args...), tc.want, "%v", tc.args)
	}
}
