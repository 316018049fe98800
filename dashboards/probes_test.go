package dashboards

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"
)

// serialPattern is a probe's serial number as the demo data gives them (identity.sn).
var serialPattern = regexp.MustCompile(`^[0-9A-F]{16}$`)

// TestProbePanelsShowSerials: every panel grouped by probe shows the probes by serial number, in
// its golden answer as Grafana receives it: a series is named and labelled by the serial with the
// identity id beside it as probe_id, a table has a probe column of serials and a numeric probe_id.
func TestProbePanelsShowSerials(t *testing.T) {
	checked := 0
	for _, d := range load(t) {
		if liveOnly(d) {
			continue // no golden frames: its streams show serials as stream.go's tests check
		}
		b, err := os.ReadFile(newGolden(d).path())
		require.NoError(t, err)
		var golden goldenFile
		require.NoError(t, json.Unmarshal(b, &golden))
		for _, tg := range mustTargets(t, d) {
			var q struct {
				GroupBy any `json:"groupBy"`
			}
			require.NoError(t, json.Unmarshal(tg.JSON, &q))
			if !groupsByProbe(q.GroupBy) {
				continue
			}
			resp, ok := golden.Panels[strconv.Itoa(tg.Panel.ID)]
			require.True(t, ok, "%s panel %q has no golden answer", d.File, tg.Panel.Title)
			frames := resp.Responses[tg.RefID].Frames
			require.NotEmpty(t, frames, "%s panel %q", d.File, tg.Panel.Title)
			for _, f := range frames {
				if probe, i := f.FieldByName("probe"); i >= 0 {
					_, idx := f.FieldByName("probe_id")
					require.GreaterOrEqual(t, idx, 0, "%s panel %q: probe_id beside probe", d.File, tg.Panel.Title)
					require.Equal(t, data.FieldTypeInt64, f.Fields[idx].Type())
					for row := range f.Rows() {
						require.Regexp(t, serialPattern, probe.At(row), "%s panel %q", d.File, tg.Panel.Title)
					}
					checked++
					continue
				}
				for _, fd := range f.Fields {
					if fd.Labels == nil {
						continue
					}
					require.Regexp(t, serialPattern, fd.Labels["probe"], "%s panel %q", d.File, tg.Panel.Title)
					require.NotEmpty(t, fd.Labels["probe_id"], "%s panel %q", d.File, tg.Panel.Title)
					require.Contains(t, fd.Config.DisplayNameFromDS, fd.Labels["probe"], "the legend names the probe by serial")
					checked++
				}
			}
		}
	}
	require.Positive(t, checked, "no panel grouped by probe was checked")
}

// groupsByProbe reports whether a target's groupBy (a list, or a string of keys separated by
// commas) holds probe.
func groupsByProbe(groupBy any) bool {
	switch g := groupBy.(type) {
	case string:
		return groupsByProbe(strings.Split(g, ","))
	case []string:
		for _, k := range g {
			if strings.TrimSpace(k) == "probe" {
				return true
			}
		}
	case []any:
		for _, k := range g {
			if s, ok := k.(string); ok && groupsByProbe(s) {
				return true
			}
		}
	}
	return false
}
