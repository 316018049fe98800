package twin

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/testenv"
)

// The partial indexes of migration 000041 must cover every rank a query reads.
func TestTopIndexesCoverTheRanksRead(t *testing.T) {
	pool := testenv.Pool(t)
	for _, f := range derived.Families {
		for _, tw := range Ranked(f) {
			for _, p := range tw.Precisions {
				var def string
				require.NoError(t, pool.QueryRow(context.Background(),
					"SELECT indexdef FROM pg_indexes WHERE indexname = $1", tw.Name(p)+"_top_idx").Scan(&def))
				require.Contains(t, def, fmt.Sprintf("(rank <= %d)", derived.TopRanks+1), tw.Name(p))
			}
		}
	}
}

func TestBuildSumsAndRanksEachBucket(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t)
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	// Two days of wide rows: on the first, 'b' and 'c' tie and 'a' leads; on the second only 'c'.
	rows := []struct {
		at       time.Time
		password string
		ip       string
		n        int
	}{
		{day, "a", "192.0.2.1", 5}, {day, "a", "192.0.2.2", 2}, {day, "b", "192.0.2.1", 3},
		{day, "c", "192.0.2.3", 3}, {day.AddDate(0, 0, 1), "c", "192.0.2.3", 4},
	}
	for _, r := range rows {
		_, err := pool.Exec(ctx, `INSERT INTO passwords_daily (time, raw_count, username, password, ip) VALUES ($1, $2, 'root', $3, $4)`,
			r.at, r.n, r.password, r.ip)
		require.NoError(t, err)
	}
	tw := Ranked(derived.Passwords)[0]
	require.Equal(t, "passwords_daily_by_password", tw.Name("daily"))
	del, ins := rankedSQL(tw, "daily")
	for range 2 { // rebuilding is idempotent
		_, err := pool.Exec(ctx, del, day, day.AddDate(0, 0, 2))
		require.NoError(t, err)
		_, err = pool.Exec(ctx, ins, day, day.AddDate(0, 0, 2))
		require.NoError(t, err)
	}
	got, err := pool.Query(ctx, "SELECT time, password, raw_count, rank FROM passwords_daily_by_password ORDER BY time, rank")
	require.NoError(t, err)
	var lines []string
	for got.Next() {
		var at time.Time
		var pw string
		var n, rank int
		require.NoError(t, got.Scan(&at, &pw, &n, &rank))
		lines = append(lines, fmt.Sprintf("%s %s %d #%d", at.UTC().Format("01-02"), pw, n, rank))
	}
	require.NoError(t, got.Err())
	require.Equal(t, "03-01 a 7 #1|03-01 b 3 #2|03-01 c 3 #3|03-02 c 4 #1", strings.Join(lines, "|"))
}

func TestCoversAndHas(t *testing.T) {
	login := Ranked(derived.Passwords)[2]
	require.True(t, login.Covers("password", "username"))
	require.False(t, login.Covers("ip"))
	require.True(t, Has("ports", "daily"))
	require.False(t, Has("ports", "quarterly"))
	require.Len(t, Ranked(derived.Incidents), 2)
}

func TestBuildersOfEachSource(t *testing.T) {
	var names []string
	for _, b := range Builders("incidents") {
		names = append(names, b.Table.Name("daily"))
	}
	require.Equal(t, []string{"incidents_daily_by_kind", "incidents_daily_by_ip", "incidents_daily_sightings"}, names)
	require.Len(t, Builders("passwords"), 3)
	require.Empty(t, Builders("greylist"))
}
