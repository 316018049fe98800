package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/dashboards/paneltest"
	"github.com/sview-project/sview/internal/api"
	"github.com/sview-project/sview/internal/sentinel"
)

// TestPanelsThroughBackend is the main test of the dashboards: every target of every panel,
// with variables replaced by values of the seeded data as the frontend replaces them, runs
// through the plugin's QueryData and must return data of the shape its panel draws. Each
// dashboard runs with its default period and the dashboard range; the Overview with every
// period. The resources the dashboards link to must answer too.
func TestPanelsThroughBackend(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	url, s := paneltest.SeededDatabase(t, now)
	b := paneltest.NewBackend(t, url)
	vars := map[string][]string{
		"probe": s.Probes, "asn": {s.ASN}, "country": s.Countries, "tag": s.Tags,
		"ip": {s.IP}, "password": {s.Password}, "prefix": {s.Prefix},
		// a network operator's netblock: the /16 around the sample attacker
		"netblock": {netip.PrefixFrom(netip.MustParseAddr(s.IP), 16).Masked().String()},
		// $trap and $action default to All, which the frontend expands to every value.
		"trap": sentinel.Traps, "action": sentinel.Actions,
		// so do $taxonomy and $feed, to every value seen
		"taxonomy": s.Taxonomies, "feed": s.Feeds,
	}
	var runs int
	for _, d := range load(t) {
		if liveOnly(d) {
			continue // streams only: nothing QueryData answers, so no golden frames (TestLiveDashboard)
		}
		golden := newGolden(d)
		targets, err := d.Targets()
		require.NoError(t, err)
		pv, _ := d.Variable("period")
		periods := []string{fmt.Sprint(pv.Current.Value), DashboardRange}
		if d.UID == "sview-overview" {
			opts, err := pv.CustomOptions()
			require.NoError(t, err)
			periods = periods[:0]
			for _, o := range opts {
				periods = append(periods, o.Value)
			}
		}
		panels := rawPanels(d)
		for _, p := range periods {
			vars["period"] = []string{p}
			for _, tg := range targets {
				if isLive(tg.JSON) {
					continue // a Grafana Live stream, not a QueryData query: internal/live and the plugin's stream tests
				}
				name := fmt.Sprintf("%s/%d %s/%s/period=%q", d.File, tg.Panel.ID, tg.Panel.Title, tg.RefID, p)
				q, err := paneltest.Interpolate(tg.JSON, vars)
				require.NoError(t, err, name)
				t.Run(name, func(t *testing.T) {
					need, err := paneltest.NeedOfPanel(tg.Panel.Type)
					require.NoError(t, err)
					frames, err := b.Verify(ctx, paneltest.Query{RefID: tg.RefID, JSON: q, From: now.Add(-7 * 24 * time.Hour), To: now, Interval: time.Hour},
						need, fieldRefs(panels[tg.Panel.ID]))
					require.NoError(t, err, "%s", q)
					if p == fmt.Sprint(pv.Current.Value) {
						golden.add(t, tg.Panel.ID, tg.RefID, frames, vars)
					}
				})
				runs++
			}
		}
		t.Run(d.File+"/golden frames", func(t *testing.T) { golden.check(t) })
	}
	t.Logf("%d panel queries run through QueryData", runs)
	t.Run("linked resources", func(t *testing.T) { linkedResources(t, ctx, b, now) })
	t.Run("variable values", func(t *testing.T) { variableValues(t, ctx, b, vars, now) })
	t.Run("annotations", func(t *testing.T) { annotations(t, ctx, b, vars, now) })
}

// annotations: every annotation a dashboard asks the sview datasource for answers, over the
// last week, a frame with the fields Grafana maps to annotations.
func annotations(t *testing.T, ctx context.Context, b *paneltest.Backend, vars map[string][]string, now time.Time) {
	var n int
	for _, d := range load(t) {
		list, _ := d.Raw["annotations"].(map[string]any)["list"].([]any)
		for _, raw := range list {
			a, _ := raw.(map[string]any)
			if ds, _ := a["datasource"].(map[string]any); ds["uid"] != DatasourceUID {
				continue
			}
			n++
			target, err := json.Marshal(a["target"])
			require.NoError(t, err)
			q, err := paneltest.Interpolate(target, vars)
			require.NoError(t, err, "%s annotation %q", d.File, a["name"])
			resp, err := b.Run(ctx, paneltest.Query{RefID: "Anno", JSON: q, From: now.Add(-7 * 24 * time.Hour), To: now, Interval: time.Hour})
			require.NoError(t, err)
			require.NoError(t, resp.Error, "%s annotation %q: %s", d.File, a["name"], q)
			require.Len(t, resp.Frames, 1)
			for _, name := range []string{"time", "timeEnd", "title", "text", "tags"} {
				f, _ := resp.Frames[0].FieldByName(name)
				require.NotNil(t, f, "%s annotation %q: field %s", d.File, a["name"], name)
			}
		}
	}
	require.Equal(t, 3, n, "greylist changes (network operator), silences (my probes), aggregation (system health)")
}

// variableValues: each query variable's list (the plugin resource variables/{kind}) has
// values, among them the samples the panels were run with. A kind listed by volume is asked
// for the dashboards' default range, as the frontend asks for the dashboard's.
func variableValues(t *testing.T, ctx context.Context, b *paneltest.Backend, samples map[string][]string, now time.Time) {
	for _, d := range load(t) {
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			var q struct {
				Kind string `json:"kind"`
			}
			require.NoError(t, json.Unmarshal(v.Query, &q))
			path := "variables/" + q.Kind
			if slices.Contains(api.OnlyRanked, q.Kind) {
				path += fmt.Sprintf("?from=%d&to=%d", now.Add(-paneltest.DefaultRange).UnixMilli(), now.UnixMilli())
			}
			status, body, err := b.Resource(ctx, path)
			require.NoError(t, err)
			require.Equal(t, 200, status, "%s $%s: %s", d.File, v.Name, body)
			var values []struct {
				Value string `json:"value"`
				Text  string `json:"text"`
			}
			require.NoError(t, json.Unmarshal(body, &values), "%s $%s: %s", d.File, v.Name, body)
			require.NotEmpty(t, values, "%s $%s", d.File, v.Name)
			var have []string
			for _, x := range values {
				have = append(have, x.Value)
			}
			for _, s := range samples[v.Name] {
				require.Contains(t, have, s, "%s $%s: sample value", d.File, v.Name)
			}
		}
	}
}

var resourceLink = regexp.MustCompile(`/api/datasources/uid/` + DatasourceUID + `/resources/([A-Za-z0-9._/-]+)`)

// linkedResources: every plugin resource a dashboard links to (the greylist CSV, daily
// snapshots) answers through CallResource; a YYYY-MM-DD placeholder stands for today.
func linkedResources(t *testing.T, ctx context.Context, b *paneltest.Backend, now time.Time) {
	seen := map[string]bool{}
	for _, d := range load(t) {
		raw, err := json.Marshal(d.Raw)
		require.NoError(t, err)
		for _, m := range resourceLink.FindAllStringSubmatch(string(raw), -1) {
			path := strings.ReplaceAll(m[1], "YYYY-MM-DD", now.Format(time.DateOnly))
			if seen[path] {
				continue
			}
			seen[path] = true
			status, body, err := b.Resource(ctx, path)
			require.NoError(t, err, "%s links %s", d.File, path)
			require.Equal(t, 200, status, "%s links %s: %s", d.File, path, body)
			require.NotEmpty(t, body, "%s links %s", d.File, path)
		}
	}
	require.NotEmpty(t, seen, "the greylist dashboard links its CSV")
}

func rawPanels(d Dashboard) map[int]map[string]any {
	out := map[int]map[string]any{}
	var walk func(ps []any)
	walk = func(ps []any) {
		for _, p := range ps {
			m, ok := p.(map[string]any)
			if !ok {
				continue
			}
			if id, ok := m["id"].(float64); ok {
				out[int(id)] = m
			}
			if sub, ok := m["panels"].([]any); ok {
				walk(sub)
			}
		}
	}
	ps, _ := d.Raw["panels"].([]any)
	walk(ps)
	return out
}

var exactField = regexp.MustCompile(`^/\^([A-Za-z0-9_]+)\$/$`)

// fieldRefs are the field names a panel's overrides, transformations and stat options refer
// to, less those its own transformations create.
func fieldRefs(p map[string]any) []string {
	made := map[string]bool{}
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if m, ok := v["matcher"].(map[string]any); ok && m["id"] == "byName" {
				if s, ok := m["options"].(string); ok {
					refs = append(refs, s)
				}
			}
			if s, ok := v["fieldName"].(string); ok {
				refs = append(refs, s)
			}
			if s, ok := v["alias"].(string); ok {
				made[s] = true
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(p["fieldConfig"])
	walk(p["transformations"])
	if opts, ok := p["options"].(map[string]any); ok {
		// Geomap layers: the lookup field and the fields that size and colour the markers.
		var layer func(v any)
		layer = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				for _, k := range []string{"field", "lookup"} {
					if s, ok := v[k].(string); ok && s != "" {
						refs = append(refs, s)
					}
				}
				for _, c := range v {
					layer(c)
				}
			case []any:
				for _, c := range v {
					layer(c)
				}
			}
		}
		layer(opts["layers"])
		if ro, ok := opts["reduceOptions"].(map[string]any); ok {
			if m := exactField.FindStringSubmatch(fmt.Sprint(ro["fields"])); m != nil {
				refs = append(refs, m[1])
			}
		}
	}
	var out []string
	for _, r := range refs {
		if !made[r] {
			out = append(out, r)
		}
	}
	return out
}
