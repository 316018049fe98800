package dashboards

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/dashboards/paneltest"
	"github.com/sview-project/sview/internal/api"
	"github.com/sview-project/sview/internal/query"
)

// The seven periods of DESIGN §3; every period picker offers them plus the dashboard range.
var periods = []string{"1h", "6h", "1d", "1w", "1m", "3m", "1y"}

func load(t *testing.T) []Dashboard {
	t.Helper()
	ds, err := Load()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(ds), 10, "one dashboard per page")
	return ds
}

func TestUIDsAndPanelIDsAreUnique(t *testing.T) {
	uids := map[string]string{}
	for _, d := range load(t) {
		require.Regexp(t, `^sview-[a-z0-9-]+$`, d.UID, d.File)
		require.LessOrEqual(t, len(d.UID), 40, "%s: Grafana limits uids to 40 characters", d.File)
		if other, dup := uids[d.UID]; dup {
			t.Fatalf("uid %q used by %s and %s", d.UID, other, d.File)
		}
		uids[d.UID] = d.File
		require.NotEmpty(t, d.Title, d.File)
		require.True(t, d.Schema >= 39 && d.Schema <= 41, "%s: schemaVersion %d, want 39..41", d.File, d.Schema)

		ids := map[int]string{}
		for _, p := range d.AllPanels() {
			require.NotZero(t, p.ID, "%s: panel %q has no id", d.File, p.Title)
			if other, dup := ids[p.ID]; dup {
				t.Fatalf("%s: panel id %d used by %q and %q", d.File, p.ID, other, p.Title)
			}
			ids[p.ID] = p.Title
		}
	}
}

// TestOnlyTheProvisionedDatasource walks every object of every dashboard: each datasource
// reference is the provisioned sview datasource, apart from Grafana's built-in annotations.
func TestOnlyTheProvisionedDatasource(t *testing.T) {
	for _, d := range load(t) {
		var walk func(where string, v any)
		walk = func(where string, v any) {
			switch v := v.(type) {
			case map[string]any:
				if ref, ok := v["datasource"]; ok {
					m, isObj := ref.(map[string]any)
					require.True(t, isObj, "%s %s: datasource must be a {type, uid} object, got %v", d.File, where, ref)
					if m["uid"] != "-- Grafana --" {
						require.Equal(t, DatasourceUID, m["uid"], "%s %s", d.File, where)
						require.Equal(t, DatasourceType, m["type"], "%s %s", d.File, where)
					}
				}
				for k, child := range v {
					walk(where+"."+k, child)
				}
			case []any:
				for _, child := range v {
					walk(where, child)
				}
			}
		}
		walk("", d.Raw)
	}
}

func TestEveryPanelHasTargets(t *testing.T) {
	for _, d := range load(t) {
		for _, p := range d.AllPanels() {
			if p.Type == "row" || p.Type == "text" {
				continue
			}
			require.NotEmpty(t, p.Targets, "%s: panel %d %q has no query", d.File, p.ID, p.Title)
			refs := map[string]bool{}
			for _, raw := range p.Targets {
				var tg struct {
					RefID     string `json:"refId"`
					QueryType string `json:"queryType"`
				}
				require.NoError(t, json.Unmarshal(raw, &tg))
				require.NotEmpty(t, tg.RefID, "%s: panel %q", d.File, p.Title)
				require.False(t, refs[tg.RefID], "%s: panel %q repeats refId %s", d.File, p.Title, tg.RefID)
				refs[tg.RefID] = true
				// Annotations mark panels; they are no panel's query.
				require.Contains(t, slices.DeleteFunc(slices.Clone(query.QueryTypes), func(t string) bool { return t == query.TypeAnnotations }),
					tg.QueryType, "%s: panel %q", d.File, p.Title)
			}
		}
	}
}

var varRef = regexp.MustCompile(`\$(?:\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|([A-Za-z0-9_]+))`)

// TestVariablesAreDefined scans targets, titles and links for $name / ${name} and requires
// each to be a variable of the dashboard (Grafana's own __ variables aside in links).
func TestVariablesAreDefined(t *testing.T) {
	for _, d := range load(t) {
		defined := map[string]bool{}
		for _, v := range d.Templating.List {
			defined[v.Name] = true
		}
		check := func(where, s string, allowBuiltin bool) {
			for _, m := range varRef.FindAllStringSubmatch(s, -1) {
				name := m[1] + m[2]
				if allowBuiltin && strings.HasPrefix(name, "__") {
					continue
				}
				require.True(t, defined[name], "%s %s: $%s is not a variable of the dashboard (have %v)", d.File, where, name, keys(defined))
			}
		}
		for _, p := range d.AllPanels() {
			check("title of panel "+p.Title, p.Title, false)
			for _, raw := range p.Targets {
				check("target of panel "+p.Title, string(raw), false)
			}
		}
		b, err := json.Marshal(d.Raw["panels"])
		require.NoError(t, err)
		check("panels", string(b), true)
	}
}

// TestPeriodVariable: every dashboard offers the seven periods and the dashboard range, and
// every stats and trend query follows it.
func TestPeriodVariable(t *testing.T) {
	for _, d := range load(t) {
		if liveOnly(d) {
			continue // a stream shows what arrives from now on: no period (TestLiveDashboard)
		}
		v, ok := d.Variable("period")
		require.True(t, ok, "%s has no period variable", d.File)
		require.Equal(t, "custom", v.Type, d.File)
		require.False(t, v.Multi, d.File)
		opts, err := v.CustomOptions()
		require.NoError(t, err, d.File)
		var values, saved []string
		for _, o := range opts {
			values = append(values, o.Value)
		}
		for _, o := range v.Options {
			saved = append(saved, o.Value)
		}
		require.Equal(t, append(slices.Clone(periods), DashboardRange), values, "%s: options Grafana derives from the query", d.File)
		require.Equal(t, values, saved, "%s: saved options must match the query", d.File)
		require.Contains(t, values, v.Current.Value, "%s: default period", d.File)

		targets, err := d.Targets()
		require.NoError(t, err)
		for _, tg := range targets {
			var q struct {
				QueryType string `json:"queryType"`
				Period    string `json:"period"`
			}
			require.NoError(t, json.Unmarshal(tg.JSON, &q))
			if q.QueryType == "stats" || q.QueryType == "trend" {
				require.Equal(t, "$period", q.Period, "%s: panel %q must follow the period picker", d.File, tg.Panel.Title)
			}
		}
	}
}

// TestQueryVariablesUseThePlugin: $probe, $asn, $country and friends come from the plugin's
// variables/{kind} resource.
func TestQueryVariablesUseThePlugin(t *testing.T) {
	for _, d := range load(t) {
		for _, v := range d.Templating.List {
			switch v.Type {
			case "custom", "textbox", "adhoc": // adhoc: TestAdhocVariable
			case "query":
				require.NotNil(t, v.Datasource, "%s: $%s", d.File, v.Name)
				var q struct {
					Kind string `json:"kind"`
				}
				require.NoError(t, json.Unmarshal(v.Query, &q), "%s: $%s", d.File, v.Name)
				require.Contains(t, api.VariableKinds, q.Kind, "%s: $%s", d.File, v.Name)
			default:
				t.Fatalf("%s: $%s has type %q; want custom, textbox, query or adhoc", d.File, v.Name, v.Type)
			}
		}
	}
}

func TestGeoAttribution(t *testing.T) {
	for _, d := range load(t) {
		if d.UID == "sview-overview" || d.UID == "sview-network-operator" {
			for _, s := range []string{"CC BY 4.0", "RouteViews", "DB-IP"} {
				require.Contains(t, d.Desc, s, "%s: geo data attribution", d.File)
			}
		}
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestCustomOptions(t *testing.T) {
	cases := []struct {
		name, query string
		want        []Option
	}{
		{"text and value", "Hour : 1h, Day : 1d", []Option{{"Hour", "1h"}, {"Day", "1d"}}},
		{"bare values", "a,b", []Option{{"a", "a"}, {"b", "b"}}},
		{"blank value becomes empty", "Week : 1w, Dashboard range :  ", []Option{{"Week", "1w"}, {"Dashboard range", ""}}},
		{"escaped comma", `x\,y : 1`, []Option{{"x,y", "1"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := json.Marshal(c.query)
			require.NoError(t, err)
			got, err := Variable{Name: "v", Query: q}.CustomOptions()
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

// staticSamples are variable values for checks that need no database.
var staticSamples = map[string][]string{
	"probe": {"1", "2"}, "asn": {"64500"}, "country": {"CZ", "DE"}, "tag": {"telnet", "port_scan"},
	"ip": {"192.0.2.1"}, "password": {"123456"}, "prefix": {"7c4a8"}, "netblock": {"192.0.2.0/24", "2001:db8::/32"},
	"trap": {"minipot_telnet", "fwlogs"}, "action": {"login", "connect"},
	"taxonomy": {"information-gathering", "intrusion-attempts"}, "feed": {"Scan-SSH"},
}

// TestTargetsParse: every target, with its variables replaced as the frontend does and with
// every choice of the period picker, is a valid query for internal/query.
func TestTargetsParse(t *testing.T) {
	for _, d := range load(t) {
		targets, err := d.Targets()
		require.NoError(t, err)
		opts := []Option{{Value: DashboardRange}} // a live dashboard has no period
		if v, ok := d.Variable("period"); ok {
			if opts, err = v.CustomOptions(); err != nil {
				t.Fatal(err)
			}
		}
		for _, o := range opts {
			vars := maps.Clone(staticSamples)
			vars["period"] = []string{o.Value}
			for _, tg := range targets {
				q, err := paneltest.Interpolate(tg.JSON, vars)
				require.NoError(t, err, "%s panel %q", d.File, tg.Panel.Title)
				_, err = query.Parse(q)
				require.NoError(t, err, "%s panel %q with period %q: %s", d.File, tg.Panel.Title, o.Value, q)
			}
		}
	}
}

// unitPanels are the panel types that draw numbers and so need a unit; rows and text panels
// have none.
var unitPanels = []string{"timeseries", "barchart", "stat", "gauge", "bargauge", "geomap", "table"}

// units are the units the dashboards may use (Grafana's ids): counts as "short" (axes) or
// "none" (exact: tables, ranks, flags), durations in seconds, percentages, bytes.
var units = []string{"short", "none", "s", "ms", "percent", "percentunit", "bytes", "decbytes"}

// TestPanelHygiene holds every panel to what Grafana's dashboard linter asks: a description,
// and a unit on every panel that draws numbers (a table's unit is its numeric columns'
// default; a field's own unit from the datasource wins over it).
func TestPanelHygiene(t *testing.T) {
	for _, d := range load(t) {
		for id, p := range rawPanels(d) {
			typ, _ := p["type"].(string)
			where := fmt.Sprintf("%s panel %d %q", d.File, id, p["title"])
			if typ == "row" {
				continue
			}
			desc, _ := p["description"].(string)
			require.NotEmpty(t, strings.TrimSpace(desc), "%s has no description", where)
			if !slices.Contains(unitPanels, typ) {
				continue
			}
			fc, _ := p["fieldConfig"].(map[string]any)
			defaults, _ := fc["defaults"].(map[string]any)
			unit, _ := defaults["unit"].(string)
			require.Contains(t, units, unit, "%s: fieldConfig.defaults.unit %q, want one of %v", where, unit, units)
		}
	}
}

// TestProvisionedAsCode: the files are the source, so Grafana must not offer to edit and
// save the dashboards, and query variables follow the time range (refresh 2, "On time range
// change"), so their lists reflect what the range holds.
func TestProvisionedAsCode(t *testing.T) {
	for _, d := range load(t) {
		require.Equal(t, false, d.Raw["editable"], "%s: editable must be false", d.File)
		list, _ := d.Raw["templating"].(map[string]any)["list"].([]any)
		for _, raw := range list {
			v, _ := raw.(map[string]any)
			if v["type"] == "query" {
				require.EqualValues(t, 2, v["refresh"], "%s $%s: refresh must be 2 (on time range change)", d.File, v["name"])
			}
		}
	}
}

// TestTrapAndActionVariables: the dashboards whose panels count incidents by trap and action
// let the viewer narrow every such panel by both.
func TestTrapAndActionVariables(t *testing.T) {
	for _, d := range load(t) {
		if d.UID != "sview-incidents" && d.UID != "sview-network-operator" {
			continue
		}
		for _, name := range []string{"trap", "action"} {
			v, ok := d.Variable(name)
			require.True(t, ok, "%s has no $%s", d.File, name)
			require.Equal(t, "query", v.Type, "%s $%s", d.File, name)
			require.True(t, v.Multi && v.IncludeAll, "%s $%s: multi-value with All", d.File, name)
		}
		targets, err := d.Targets()
		require.NoError(t, err)
		for _, tg := range targets {
			var q struct {
				QueryType string         `json:"queryType"`
				Filters   map[string]any `json:"filters"`
			}
			require.NoError(t, json.Unmarshal(tg.JSON, &q))
			// Statistics about the dashboard's subject (they have filters) follow both; the ASN
			// rankings of the network operator compare with every ASN, unfiltered; the greylist
			// has no trap or action.
			if q.Filters == nil || q.QueryType != query.TypeStats {
				continue
			}
			for _, name := range []string{"trap", "action"} {
				require.Equal(t, []any{"$" + name}, q.Filters[name], "%s panel %q: filters.%s", d.File, tg.Panel.Title, name)
			}
		}
	}
}
