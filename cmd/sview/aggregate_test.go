package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/aggregator"
	"github.com/sview-project/sview/internal/derived"
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
	require.Contains(t, c.stdout.String(), "incidents    quarterly  2024-05-01 00:00:00  2024-05-01 06:00:00  52")

	require.NoError(t, c.call(cmdBackfill, "--from", "2024-05-01", "--to", "2024-05-03"))
	require.Contains(t, c.stderr.String(), "rows/s")
	require.Contains(t, c.stderr.String(), "twins 1 buckets built, 49 left  incidents hourly    at 2024-05-02 23:00")
	require.Contains(t, c.stdout.String(), "backfill of 2024-05-01T00:00:00Z..2024-05-03T00:00:00Z done, twins of 50 buckets built, running totals of 0")

	require.NoError(t, c.call(cmdStatus, "--json"))
	var s struct {
		rollupstate.Status
		Twins []aggregator.TwinLag `json:"twins"`
	}
	require.NoError(t, json.Unmarshal(c.stdout.Bytes(), &s))
	require.Len(t, s.Watermarks, len(derived.Families)*len(derived.Rollups))
	require.Equal(t, time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC), s.Watermarks[0].Watermark.UTC())
	// Only incidents hold rows; the backfill gave the other tables watermarks too.
	require.Equal(t, []aggregator.TwinLag{{Key: rollupstate.Key{Table: "incidents", Precision: "hourly"}, Closed: 48}, {Key: rollupstate.Key{Table: "incidents", Precision: "daily"}, Closed: 2},
		{Key: rollupstate.Key{Table: "passwords", Precision: "hourly"}}, {Key: rollupstate.Key{Table: "passwords", Precision: "daily"}},
		{Key: rollupstate.Key{Table: "ports", Precision: "hourly"}}, {Key: rollupstate.Key{Table: "ports", Precision: "daily"}}}, s.Twins)

	// Late rows unlist the twins of the buckets they change, and for incidents the sightings of
	// every later hour (their previous sightings may move); status shows what is pending.
	_, err := c.db.Exec(c.ctx, `INSERT INTO incidents (time, identity_id, trap, action, ip) VALUES ('2024-05-02 10:20Z', 1, 'fwlogs', 'connect', '192.0.2.8')`)
	require.NoError(t, err)
	for _, args := range [][]string{{"quarterly", "2024-05-02T10:00:00Z", "2024-05-02T11:00:00Z"},
		{"hourly", "2024-05-02T10:00:00Z", "2024-05-02T11:00:00Z"}, {"daily", "2024-05-02", "2024-05-03"}} {
		require.NoError(t, c.call(cmdAggregate, args[0], "--from", args[1], "--to", args[2]))
	}
	require.NoError(t, c.call(cmdStatus))
	require.Contains(t, c.stdout.String(), "rollup:incidents:daily")
	var timescale bool
	require.NoError(t, c.db.QueryRow(c.ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')").Scan(&timescale))
	if timescale {
		require.NotContains(t, c.stdout.String(), "RAW PARTITIONS")
	} else {
		// The rows of 2024 wait in the default partition: no `sview run` made their days.
		require.Regexp(t, `RAW PARTITIONS \(one per UTC day\)\n.*\nincidents +\d+ +.+ +- +401\n`, c.stdout.String())
	}
	require.Regexp(t, `RANKED TWINS\nTABLE +PRECISION +CLOSED +PENDING +NEWEST PENDING +RUNNING TOTALS THROUGH\n`+
		`incidents +hourly +48 +14 +2024-05-02 23:00:00 +-\nincidents +daily +2 +1 +2024-05-02 00:00:00 +-\n`, c.stdout.String())

	var total int64
	require.NoError(t, c.db.QueryRow(c.ctx, "SELECT sum(raw_count) FROM incidents_daily").Scan(&total))
	require.Equal(t, int64(400+1), total, "the backfilled rows and the late one")

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

// TestStatusTables lists the registry without touching the database.
func TestStatusTables(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "")
	require.NoError(t, c.call(cmdStatus, "--tables"))
	out := c.stdout.String()
	require.Contains(t, out, "KIND")
	require.Regexp(t, `totals +incidents_quarterly_totals incidents_hourly_totals incidents_daily_totals +trap, action, country, asn `, out)
	require.Regexp(t, `running +ports_hourly_running ports_daily_running +sums of its by_port twin `, out)
	require.Equal(t, len(derived.All)+1, strings.Count(out, "\n"), "a line per registry entry")
}
