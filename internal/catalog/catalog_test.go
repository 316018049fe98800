package catalog_test

import (
	"flag"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/catalog"
	"github.com/sview-project/sview/internal/query"
)

var update = flag.Bool("update", false, "rewrite the goldens in testdata/")

// TestPresetsGolden pins what every preset expands to (Parse of {"preset": name}, with the
// filter it requires), so a change to the catalog or to normalisation shows up in review. The
// plugin's frontend builds its presets from this file.
func TestPresetsGolden(t *testing.T) {
	required := map[string]string{"probe": `{"probe":[1]}`, "ip": `{"ip":"192.0.2.1"}`, "password": `{"password":"123456"}`}
	type entry struct {
		Name      string      `json:"name"`
		Title     string      `json:"title"`
		Precached bool        `json:"precached"`
		Requires  string      `json:"requires,omitempty"`
		Query     query.Query `json:"query"`
	}
	var got []entry
	for _, p := range catalog.All {
		in := `{"preset":"` + p.Name + `"`
		if p.Requires != "" {
			in += `,"filters":` + required[p.Requires]
		}
		q, err := query.Parse([]byte(in + "}"))
		require.NoError(t, err, p.Name)
		got = append(got, entry{Name: p.Name, Title: p.Title, Precached: p.Precached, Requires: p.Requires, Query: q})
	}
	golden(t, "presets.golden.json", got)
}

func TestCatalog(t *testing.T) {
	names := catalog.Names()
	require.Len(t, slices.Compact(slices.Sorted(slices.Values(names))), len(catalog.All), "names are unique")
	original, precached := 0, 0
	for _, p := range catalog.All {
		if !p.Added {
			original++
		}
		if p.Precached && !p.Added {
			precached++
			require.Empty(t, p.Requires, "%s: a precached preset needs no user value", p.Name)
		}
		got, ok := catalog.Lookup(p.Name)
		require.True(t, ok)
		require.Equal(t, p, got)
	}
	require.Equal(t, 29, original, "the original's 29 resources")
	require.Equal(t, 23, precached, "the original precached 23 resources")
	_, ok := catalog.Lookup("top_ips")
	require.False(t, ok)
	// Without the filter they are about, the per-probe and per-value presets are rejected.
	for _, p := range catalog.All {
		if p.Requires == "" {
			continue
		}
		_, err := query.Parse([]byte(`{"preset":"` + p.Name + `"}`))
		require.ErrorIs(t, err, query.ErrMissingField, p.Name)
	}
}
