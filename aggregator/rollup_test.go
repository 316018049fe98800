package aggregator

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/testenv"
)

// TestRollupCases runs the scripts under testdata/rollup: raw rows in, expected buckets of
// every rollup table out. Directives, one per line:
//
//	now TIME                      set the clock
//	geo CIDR COUNTRY ASN          add a geo prefix
//	raw TABLE COLUMNS…            a raw row (time, dimensions, country, asn, raw_count; - is NULL)
//	catchup                       insert the raw rows so far (one statement per table), then catch up
//	want TABLE_PRECISION COLUMNS… an expected rollup row; rollup tables with none must be empty
//	pending TABLE PRECISION N     N invalidated ranges still pending after the script
func TestRollupCases(t *testing.T) {
	files, err := filepath.Glob("testdata/rollup/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			t.Parallel()
			runRollupCase(t, file)
		})
	}
}

func runRollupCase(t *testing.T, file string) {
	ctx := context.Background()
	pool := testenv.Pool(t)
	setupProbes(ctx, t, pool, 5)
	c := &clock{}
	m := newManager(t, pool, c, Config{})

	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	raw := map[derived.Family][][]string{}
	want := map[string][]string{}
	pending := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		switch fields[0] {
		case "now":
			ts, err := time.Parse(time.RFC3339, fields[1])
			require.NoError(t, err, "line %d", n)
			c.Set(ts)
		case "geo":
			_, err := pool.Exec(ctx, "INSERT INTO geo_prefixes (network, country, asn) VALUES ($1, $2, $3)", fields[1], fields[2], fields[3])
			require.NoError(t, err, "line %d", n)
		case "raw":
			raw[derived.Family(fields[1])] = append(raw[derived.Family(fields[1])], fields[2:])
		case "catchup":
			for _, tbl := range derived.Families {
				insertRaw(ctx, t, pool, tbl, raw[tbl])
			}
			raw = map[derived.Family][][]string{}
			require.NoError(t, m.CatchUp(ctx, "quarterly"), "line %d", n)
		case "want":
			want[fields[1]] = append(want[fields[1]], strings.Join(fields[2:], " "))
		case "pending":
			count, err := strconv.Atoi(fields[3])
			require.NoError(t, err, "line %d", n)
			pending[fields[1]+" "+fields[2]] = count
		default:
			t.Fatalf("%s:%d: unknown directive %q", file, n, fields[0])
		}
	}
	require.NoError(t, sc.Err())
	require.Empty(t, raw, "raw rows after the last catchup are never inserted")

	for _, tbl := range derived.Families {
		for _, p := range derived.Rollups {
			exp := want[tableOf(tbl, p)]
			slices.Sort(exp)
			require.Equal(t, exp, rollupRows(ctx, t, pool, tbl, p), "rows of %s", tableOf(tbl, p))
			var n int
			require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM rollup_invalidations WHERE source = $1 AND precision = $2",
				tbl, p).Scan(&n))
			require.Equal(t, pending[string(tbl)+" "+string(p)], n, "pending invalidations of %s %s", tbl, p)
		}
	}
}
