package dashboards

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"
)

// update rewrites the golden frames: go test ./dashboards -run TestPanelsThroughBackend -update
var update = flag.Bool("update", false, "rewrite testdata/frames/*.json from the seeded backend's answers")

// goldenDir holds, per dashboard, the backend's answer to every panel's queries at the
// dashboard's default period, as Grafana's /api/ds/query returns it (backend.QueryDataResponse
// JSON, one per panel). The frontend's jest test (plugin/src/dashboards.test.ts) decodes them
// with @grafana/data and applies each panel's transformations, matchers and reduce options.
const goldenDir = "testdata/frames"

// goldenFile is one dashboard's golden answers: the variable values the queries ran with
// (transformations refer to some) and, per panel id, the QueryDataResponse of its targets.
type goldenFile struct {
	Dashboard string                                `json:"dashboard"`
	Variables map[string][]string                   `json:"variables"`
	Panels    map[string]*backend.QueryDataResponse `json:"panels"`
}

type golden struct {
	d    Dashboard
	file goldenFile
}

func newGolden(d Dashboard) *golden {
	return &golden{d: d, file: goldenFile{Dashboard: d.UID, Panels: map[string]*backend.QueryDataResponse{}}}
}

// add records the frames of one target; what changes from run to run (when and how the
// answer was computed, the SQL) is left out.
func (g *golden) add(t *testing.T, panel int, refID string, frames data.Frames, vars map[string][]string) {
	g.file.Variables = maps.Clone(vars)
	// A copy: the plugin's in-process cache may hold these very frames.
	b, err := frames.MarshalArrow()
	require.NoError(t, err)
	frames, err = data.UnmarshalArrowFrames(b)
	require.NoError(t, err)
	key := strconv.Itoa(panel)
	r := g.file.Panels[key]
	if r == nil {
		r = backend.NewQueryDataResponse()
		g.file.Panels[key] = r
	}
	for _, f := range frames {
		if f.Meta != nil {
			f.Meta.ExecutedQueryString = ""
			if m, ok := f.Meta.Custom.(map[string]any); ok {
				delete(m, "cache")
				delete(m, "computedAt")
			}
		}
	}
	r.Responses[refID] = backend.DataResponse{Frames: frames}
}

func (g *golden) path() string {
	return filepath.Join(goldenDir, strings.TrimSuffix(g.d.File, ".json")+".json")
}

// check writes the golden file with -update; otherwise the checked-in one must have an answer
// for every target of every panel with the shape (frame names, field names, types, labels and
// display names) the backend answers now, so the frontend test never runs on stale frames.
func (g *golden) check(t *testing.T) {
	if *update {
		b, err := json.MarshalIndent(g.file, "", " ")
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(goldenDir, 0o755))
		require.NoError(t, os.WriteFile(g.path(), append(b, '\n'), 0o600))
		return
	}
	b, err := os.ReadFile(g.path())
	require.NoError(t, err, "no golden frames for %s: run go test ./dashboards -run TestPanelsThroughBackend -update", g.d.File)
	var have goldenFile
	require.NoError(t, json.Unmarshal(b, &have), g.path())
	for _, tg := range mustTargets(t, g.d) {
		key := strconv.Itoa(tg.Panel.ID)
		want := g.file.Panels[key]
		if want == nil {
			continue // the live run failed; its own subtest says why
		}
		got, ok := have.Panels[key]
		require.True(t, ok, "%s: no golden answer for panel %d %q (run with -update)", g.path(), tg.Panel.ID, tg.Panel.Title)
		gr, ok := got.Responses[tg.RefID]
		require.True(t, ok, "%s: no golden answer for panel %d %q refId %s (run with -update)", g.path(), tg.Panel.ID, tg.Panel.Title, tg.RefID)
		require.Equal(t, shapes(want.Responses[tg.RefID].Frames), shapes(gr.Frames),
			"%s: panel %d %q refId %s: the golden frames are stale (run with -update)", g.path(), tg.Panel.ID, tg.Panel.Title, tg.RefID)
	}
}

func mustTargets(t *testing.T, d Dashboard) []Target {
	ts, err := d.Targets()
	require.NoError(t, err)
	return ts
}

// shapes describes frames without their values: the distinct (frame, field, type, label
// names, display name, unit) of all fields, sorted.
func shapes(frames data.Frames) []string {
	var out []string
	for _, f := range frames {
		for _, fd := range f.Fields {
			var labels []string
			for k := range fd.Labels {
				labels = append(labels, k)
			}
			slices.Sort(labels)
			var display, unit string
			if fd.Config != nil {
				display, unit = fd.Config.DisplayNameFromDS, fd.Config.Unit
				if len(fd.Labels) > 0 {
					display = "(per series)"
				}
			}
			s := fmt.Sprintf("%s.%s %s labels=%v display=%q unit=%q", f.Name, fd.Name, fd.Type(), labels, display, unit)
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}
