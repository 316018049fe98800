package derived_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/testenv"
)

func TestNames(t *testing.T) {
	require.Equal(t, "incidents", derived.RawOf(derived.Incidents).Name(period.Raw))
	require.Equal(t, "ports_daily", derived.RollupOf(derived.Ports).Name(period.Daily))
	totals, ok := derived.Find(derived.Totals, derived.Incidents)
	require.True(t, ok)
	require.Equal(t, "incidents_hourly_totals", totals.Name(period.Hourly))
	_, ok = derived.Find(derived.Totals, derived.Ports)
	require.False(t, ok, "only incidents have totals")
	require.Equal(t, "passwords_daily_by_login", derived.Of(derived.Ranked, derived.Passwords)[2].Name(period.Daily))
}

func TestPrecisionChain(t *testing.T) {
	require.Equal(t, period.Raw, derived.RolledFrom(period.Quarterly))
	require.Equal(t, period.Hourly, derived.RolledFrom(period.Daily))
	require.Equal(t, period.Quarterly, derived.ClosingSource(period.Daily), "a day closes on its quarters")
	require.Equal(t, []period.Precision{period.Hourly, period.Daily}, derived.Readers(period.Quarterly))
	require.Equal(t, []period.Precision{period.Daily}, derived.Readers(period.Hourly))
	next, ok := derived.Coarser(period.Raw)
	require.True(t, ok)
	require.Equal(t, period.Quarterly, next)
	_, ok = derived.Coarser(period.Daily)
	require.False(t, ok)
}

func TestParse(t *testing.T) {
	p, err := derived.ParseRollup("hourly")
	require.NoError(t, err)
	require.Equal(t, period.Hourly, p)
	_, err = derived.ParseRollup("raw")
	require.ErrorContains(t, err, "want one of quarterly, hourly, daily")
}

// Every entry of the registry exists at every precision it lists, with its key columns, and
// every table the migrations derive from a family is in the registry: the registry is the
// schema's list, not a second one that can drift.
func TestRegistryMatchesTheSchema(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t)
	families := make([]string, len(derived.Families))
	for i, f := range derived.Families {
		families[i] = string(f)
	}
	rows, err := pool.Query(ctx, `SELECT c.relname, array_agg(a.attname::text)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
		  AND c.relname ~ ('^(' || $1 || ')(_(quarterly|hourly|daily)(_.*)?)?$')
		GROUP BY c.relname`, strings.Join(families, "|"))
	require.NoError(t, err)
	schema := map[string][]string{}
	for rows.Next() {
		var name string
		var cols []string
		require.NoError(t, rows.Scan(&name, &cols))
		schema[name] = cols
	}
	require.NoError(t, rows.Err())
	registered := map[string]bool{}
	for _, tbl := range derived.All {
		for _, p := range tbl.Precisions {
			name := tbl.Name(p)
			registered[name] = true
			cols, ok := schema[name]
			require.True(t, ok, "%s (%s of %s) is not in the schema", name, tbl.Kind, tbl.Family)
			for _, k := range tbl.Keys {
				require.True(t, slices.Contains(cols, k), "%s has no key column %s", name, k)
			}
		}
	}
	for name := range schema {
		require.True(t, registered[name], "%s is in the schema but not in the registry", name)
	}
}
