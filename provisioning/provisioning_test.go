package provisioning

import (
	"encoding/json"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/sview-project/sview/dashboards"
	"github.com/sview-project/sview/internal/contacts"
	"github.com/sview-project/sview/internal/query"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"HOST": "db", "PORT": "5432"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cases := []struct{ in, want string }{
		{"$HOST", "db"},
		{"${HOST}:${PORT}", "db:5432"},
		{"$$HOST", "$HOST"},
		{"$MISSING", ""},
		{"plain", "plain"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, Expand(c.in, lookup), c.in)
	}
	require.Equal(t, []string{"A", "B"}, EnvRefs("$B ${A} $$C $B"))
}

func TestDatasource(t *testing.T) {
	env := map[string]string{"SVIEW_PG_HOST": "db", "SVIEW_PG_PORT": "5432", "SVIEW_PG_PASSWORD": "secret"}
	ds, err := Datasources(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	require.Len(t, ds, 1)
	d := ds[0]
	require.Equal(t, dashboards.DatasourceUID, d.UID)
	require.Equal(t, dashboards.DatasourceType, d.Type)
	require.Equal(t, "proxy", d.Access)
	require.Equal(t, "db", d.JSONData["host"])
	require.Equal(t, "secret", d.SecureJSONData["password"])
	for k := range d.JSONData {
		require.NotContains(t, []string{"password", "redisPassword"}, k, "secrets belong in secureJsonData")
	}
}

// The keys the plugin backend reads (plugin/pkg/plugin/settings.go jsonData; Go matches them
// case-insensitively, so the frontend's sslMode is its sslmode).
func TestDatasourceKeysAreKnownToThePlugin(t *testing.T) {
	ds, err := Datasources(func(string) (string, bool) { return "x", true })
	require.NoError(t, err)
	known := []string{"host", "port", "database", "user", "sslmode", "readreplicaurl", "redisaddress", "redismode",
		"redismastername", "redisuser", "redisdb", "redistls", "rediskeyprefix", "querytimeoutseconds", "maxrows", "cachettloverrides",
		"scopes", "teams", "alertscope"}
	for k := range ds[0].JSONData {
		require.Contains(t, known, strings.ToLower(k), "jsonData.%s", k)
	}
	for k := range ds[0].SecureJSONData {
		require.Contains(t, []string{"password", "redisPassword", "readReplicaPassword"}, k, "secureJsonData.%s", k)
	}
}

var mathRef = regexp.MustCompile(`\$\{?([A-Za-z0-9_]+)\}?`)

// TestRules checks the alert rules the way Grafana's provisioning would reject them, and that
// each names a real dashboard panel.
func TestRules(t *testing.T) {
	groups, err := RuleGroups()
	require.NoError(t, err)
	require.NotEmpty(t, groups)
	boards, err := dashboards.Load()
	require.NoError(t, err)
	panels := map[string][]int{}
	for _, d := range boards {
		for _, p := range d.AllPanels() {
			panels[d.UID] = append(panels[d.UID], p.ID)
		}
	}
	uids := map[string]bool{}
	var titles []string
	for _, g := range groups {
		require.NotEmpty(t, g.Name)
		require.NotEmpty(t, g.Folder, g.Name)
		iv, err := time.ParseDuration(g.Interval)
		require.NoError(t, err, "group %s interval", g.Name)
		require.GreaterOrEqual(t, iv, 10*time.Second, "group %s", g.Name)
		for _, r := range g.Rules {
			require.NotEmpty(t, r.UID)
			require.LessOrEqual(t, len(r.UID), 40, r.UID)
			require.False(t, uids[r.UID], "rule uid %s repeated", r.UID)
			uids[r.UID] = true
			titles = append(titles, r.Title)
			require.Contains(t, []string{"OK", "NoData", "Alerting", "KeepLast"}, r.NoDataState, r.UID)
			require.Contains(t, []string{"OK", "Error", "Alerting", "KeepLast"}, r.ExecErrState, r.UID)
			_, err := time.ParseDuration(r.For)
			require.NoError(t, err, "%s: for", r.UID)
			require.Contains(t, panels[r.DashboardUID], r.PanelID, "%s: dashboard %s panel %d", r.UID, r.DashboardUID, r.PanelID)

			refs := map[string]RuleQuery{}
			for _, q := range r.Data {
				require.NotEmpty(t, q.RefID, r.UID)
				require.NotContains(t, refs, q.RefID, "%s repeats refId %s", r.UID, q.RefID)
				require.Equal(t, q.RefID, q.Model["refId"], "%s: model.refId of %s", r.UID, q.RefID)
				refs[q.RefID] = q
			}
			require.Contains(t, refs, r.Condition, "%s: condition", r.UID)
			var queries int
			for _, q := range r.Data {
				switch q.DatasourceUID {
				case dashboards.DatasourceUID:
					queries++
					require.NotNil(t, q.RelativeTimeRange, "%s/%s needs relativeTimeRange", r.UID, q.RefID)
					require.Greater(t, q.RelativeTimeRange.From, q.RelativeTimeRange.To, "%s/%s", r.UID, q.RefID)
					b, err := q.ModelJSON()
					require.NoError(t, err)
					require.NotContains(t, string(b), "$", "%s/%s: alert queries take literal values, no variables", r.UID, q.RefID)
				case ExprUID:
					for _, name := range exprInputs(q.Model) {
						in, ok := refs[name]
						require.True(t, ok, "%s/%s refers to unknown %s", r.UID, q.RefID, name)
						require.NotEqual(t, q.RefID, in.RefID, "%s/%s refers to itself", r.UID, q.RefID)
					}
				default:
					t.Fatalf("%s/%s: datasourceUid %q, want %s or %s", r.UID, q.RefID, q.DatasourceUID, dashboards.DatasourceUID, ExprUID)
				}
			}
			require.NotZero(t, queries, "%s has no datasource query", r.UID)
		}
	}
	for _, want := range []string{"Incident spike per country", "Rollup overdue", "ASN in the top 10", "Greylist size jump", "Probe silent", "ASN rising for 7 days"} {
		require.Contains(t, titles, want)
	}
}

// exprInputs lists the refIds a server-side expression reads.
func exprInputs(model map[string]any) []string {
	expr, _ := model["expression"].(string)
	switch model["type"] {
	case "math":
		var out []string
		for _, m := range mathRef.FindAllStringSubmatch(expr, -1) {
			out = append(out, m[1])
		}
		return out
	default:
		return []string{expr}
	}
}

func TestContactPointAndPolicy(t *testing.T) {
	refs, err := FileEnvRefs("alerting/contact-points.yaml")
	require.NoError(t, err)
	require.Equal(t, []string{"SVIEW_ALERT_WEBHOOK_URL"}, refs)
	b, err := files.ReadFile("alerting/contact-points.yaml")
	require.NoError(t, err)
	checkContactPoints(t, b)
}

// contactPointsDoc is what the tests read of a contact points file.
type contactPointsDoc struct {
	ContactPoints []struct {
		Name      string `yaml:"name"`
		Receivers []struct {
			UID      string            `yaml:"uid"`
			Type     string            `yaml:"type"`
			Settings map[string]string `yaml:"settings"`
		} `yaml:"receivers"`
	} `yaml:"contactPoints"`
	Policies []struct {
		Receiver string `yaml:"receiver"`
		Routes   []struct {
			Receiver       string     `yaml:"receiver"`
			ObjectMatchers [][]string `yaml:"object_matchers"`
			Continue       bool       `yaml:"continue"`
		} `yaml:"routes"`
	} `yaml:"policies"`
}

// checkContactPoints checks a contact points file as Grafana would load it: one policy tree
// whose receivers all exist, receivers with unique uids Grafana accepts.
func checkContactPoints(t *testing.T, b []byte) contactPointsDoc {
	t.Helper()
	var doc contactPointsDoc
	require.NoError(t, yaml.Unmarshal(b, &doc))
	var names []string
	uids := map[string]bool{}
	for _, cp := range doc.ContactPoints {
		require.NotContains(t, names, cp.Name, "contact point names are unique")
		names = append(names, cp.Name)
		require.NotEmpty(t, cp.Receivers)
		for _, r := range cp.Receivers {
			require.Regexp(t, `^[a-zA-Z0-9_-]{1,40}$`, r.UID)
			require.False(t, uids[r.UID], "receiver uid %s twice", r.UID)
			uids[r.UID] = true
			require.Contains(t, []string{"email", "webhook"}, r.Type)
		}
	}
	require.Len(t, doc.Policies, 1, "one policy tree per organisation")
	require.Contains(t, names, doc.Policies[0].Receiver)
	for _, r := range doc.Policies[0].Routes {
		require.Contains(t, names, r.Receiver)
		for _, m := range r.ObjectMatchers {
			require.Len(t, m, 3)
		}
	}
	return doc
}

func TestContactAlerting(t *testing.T) {
	cs := []contacts.Contact{
		{ASN: 2852, Emails: []string{"abuse@cesnet.example", "csirt@cesnet.example"}, Language: "cs", Cadence: contacts.Weekly},
		{Prefix: netip.MustParsePrefix("147.32.0.0/15"), Emails: []string{"abuse@cvut.example"}, Language: "en", Cadence: contacts.Daily},
		{ASN: 25192, Webhook: "https://hooks.nic.example/sview?k=$ecret", Language: "en", Cadence: contacts.Daily},
	}
	out, skipped, err := ContactAlerting(cs)
	require.NoError(t, err)
	require.Equal(t, []string{"147.32.0.0/15"}, skipped)
	doc := checkContactPoints(t, out)
	require.Len(t, doc.ContactPoints, 3)
	require.Equal(t, "abuse@cesnet.example;csirt@cesnet.example", doc.ContactPoints[1].Receivers[0].Settings["addresses"])
	require.Equal(t, "https://hooks.nic.example/sview?k=$$ecret", doc.ContactPoints[2].Receivers[0].Settings["url"])
	// As Grafana reads it: $$ is a literal $, and nothing else is interpolated.
	require.Equal(t, "https://hooks.nic.example/sview?k=$ecret",
		Expand(doc.ContactPoints[2].Receivers[0].Settings["url"], func(string) (string, bool) { return "", false }))
	routes := doc.Policies[0].Routes
	require.Len(t, routes, 3)
	require.Equal(t, "sview-as2852", routes[0].Receiver)
	require.Equal(t, [][]string{{"asn", "=", "2852"}}, routes[0].ObjectMatchers)
	require.True(t, routes[0].Continue, "the shipped routes still see the alert")
	require.Equal(t, "sview-as25192", routes[1].Receiver)
	require.Equal(t, "sview-webhook", routes[2].Receiver, "the shipped route stays")

	// The rules route on the label their series carry.
	groups, err := RuleGroups()
	require.NoError(t, err)
	var byASN int
	for _, g := range groups {
		for _, r := range g.Rules {
			for _, q := range r.Data {
				if q.Model["groupBy"] == "asn" {
					byASN++
				}
			}
		}
	}
	require.Positive(t, byASN, "some shipped rule evaluates per ASN")
}

func TestDashboardProvider(t *testing.T) {
	b, err := files.ReadFile("dashboards/sview.yaml")
	require.NoError(t, err)
	var doc struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name    string `yaml:"name"`
			Type    string `yaml:"type"`
			Folder  string `yaml:"folder"`
			Options struct {
				Path                      string `yaml:"path"`
				FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	require.Equal(t, 1, doc.APIVersion)
	require.Len(t, doc.Providers, 1)
	p := doc.Providers[0]
	require.Equal(t, "file", p.Type)
	require.NotEmpty(t, p.Folder)
	require.False(t, p.Options.FoldersFromFilesStructure && p.Folder != "", "Grafana wants no folder with foldersFromFilesStructure")
	require.Equal(t, []string{"SVIEW_DASHBOARDS_DIR"}, EnvRefs(p.Options.Path))
}

// The alert rules' models must be the plugin's query JSON: every key one the query model or
// Grafana knows, and the whole a valid query for internal/query.
func TestRuleModelsUseQueryFields(t *testing.T) {
	groups, err := RuleGroups()
	require.NoError(t, err)
	known := append(slices.Clone(query.Keys), query.GrafanaKeys...)
	for _, g := range groups {
		for _, r := range g.Rules {
			for _, q := range r.Data {
				if q.DatasourceUID != dashboards.DatasourceUID {
					continue
				}
				b, err := json.Marshal(q.Model)
				require.NoError(t, err)
				var m map[string]json.RawMessage
				require.NoError(t, json.Unmarshal(b, &m))
				for k := range m {
					require.True(t, slices.Contains(known, k), "%s/%s: unknown model field %q", r.UID, q.RefID, k)
				}
				_, err = query.Parse(b)
				require.NoError(t, err, "%s/%s: %s", r.UID, q.RefID, b)
			}
		}
	}
}
