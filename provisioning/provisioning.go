// Package provisioning holds sview's Grafana provisioning files (datasource, dashboard
// provider, alert rules, contact point and policy) and reads them the way Grafana does, so
// tests can check them against the plugin and the rest of the repository.
package provisioning

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed datasources/*.yaml dashboards/*.yaml alerting/*.yaml
var files embed.FS

// ExprUID is the datasource uid of Grafana's server-side expressions (reduce, math, threshold).
const ExprUID = "__expr__"

// envRef matches what Grafana interpolates in provisioning files: $$ (a literal $), ${NAME}
// and $NAME.
var envRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// Expand interpolates environment references in s as Grafana does with the datasource,
// dashboard-provider and contact-point files; names lookup does not know become "".
func Expand(s string, lookup func(string) (string, bool)) string {
	return envRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := strings.Trim(m, "${}")
		v, _ := lookup(name)
		return v
	})
}

// EnvRefs lists the environment variables a text refers to, sorted and unique.
func EnvRefs(s string) []string {
	var names []string
	for _, m := range envRef.FindAllStringSubmatch(s, -1) {
		if name := m[1] + m[2]; name != "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// scalars calls fn on every scalar value of a YAML document: Grafana interpolates values after
// parsing, so comments never count and a value may hold any character.
func scalars(n *yaml.Node, fn func(n *yaml.Node)) {
	if n.Kind == yaml.ScalarNode {
		fn(n)
	}
	for _, c := range n.Content {
		scalars(c, fn)
	}
}

// FileEnvRefs lists the environment variables the values of one provisioning file refer to.
func FileEnvRefs(name string) ([]string, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("provisioning/%s: %w", name, err)
	}
	var all []string
	scalars(&doc, func(n *yaml.Node) { all = append(all, EnvRefs(n.Value)...) })
	sort.Strings(all)
	return slices.Compact(all), nil
}

// InterpolatedFiles are the files whose values Grafana interpolates from the environment.
// Alert rule models are not interpolated (a math expression's $A names a query, not a
// variable), so the rules file is not among them.
func InterpolatedFiles() ([]string, error) {
	var out []string
	for _, pattern := range []string{"datasources/*.yaml", "dashboards/*.yaml", "alerting/contact-points.yaml"} {
		m, err := fs.Glob(files, pattern)
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	return out, nil
}

// Datasource is one entry of a datasources file.
type Datasource struct {
	Name           string            `yaml:"name"`
	UID            string            `yaml:"uid"`
	Type           string            `yaml:"type"`
	Access         string            `yaml:"access"`
	JSONData       map[string]any    `yaml:"jsonData"`
	SecureJSONData map[string]string `yaml:"secureJsonData"`
}

// Datasources reads every datasources file with environment references expanded by lookup.
func Datasources(lookup func(string) (string, bool)) ([]Datasource, error) {
	var out []Datasource
	err := eachFile("datasources/*.yaml", func(name string, b []byte) error {
		var node yaml.Node
		if err := yaml.Unmarshal(b, &node); err != nil {
			return err
		}
		scalars(&node, func(n *yaml.Node) { n.Value = Expand(n.Value, lookup) })
		var doc struct {
			APIVersion  int          `yaml:"apiVersion"`
			Datasources []Datasource `yaml:"datasources"`
		}
		if err := node.Decode(&doc); err != nil {
			return err
		}
		if doc.APIVersion != 1 {
			return fmt.Errorf("apiVersion %d, want 1", doc.APIVersion)
		}
		out = append(out, doc.Datasources...)
		return nil
	})
	return out, err
}

// JSONDataBytes is the datasource's jsonData as Grafana hands it to the plugin.
func (d Datasource) JSONDataBytes() ([]byte, error) {
	if d.JSONData == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(d.JSONData)
}

// RuleGroup is one group of the alert rules file.
type RuleGroup struct {
	OrgID    int    `yaml:"orgId"`
	Name     string `yaml:"name"`
	Folder   string `yaml:"folder"`
	Interval string `yaml:"interval"`
	Rules    []Rule `yaml:"rules"`
}

// Rule is one alert rule.
type Rule struct {
	UID          string            `yaml:"uid"`
	Title        string            `yaml:"title"`
	Condition    string            `yaml:"condition"`
	Data         []RuleQuery       `yaml:"data"`
	NoDataState  string            `yaml:"noDataState"`
	ExecErrState string            `yaml:"execErrState"`
	For          string            `yaml:"for"`
	DashboardUID string            `yaml:"dashboardUid"`
	PanelID      int               `yaml:"panelId"`
	Labels       map[string]string `yaml:"labels"`
	Annotations  map[string]string `yaml:"annotations"`
}

// RuleQuery is one node of a rule: a datasource query or a server-side expression.
type RuleQuery struct {
	RefID             string         `yaml:"refId"`
	DatasourceUID     string         `yaml:"datasourceUid"`
	RelativeTimeRange *TimeRange     `yaml:"relativeTimeRange"`
	Model             map[string]any `yaml:"model"`
}

// TimeRange is seconds before now.
type TimeRange struct {
	From int64 `yaml:"from"`
	To   int64 `yaml:"to"`
}

// ModelJSON is the query as Grafana sends it to the datasource (or the expression engine).
func (q RuleQuery) ModelJSON() ([]byte, error) { return json.Marshal(q.Model) }

// RuleGroups reads every alert rule group under alerting/.
func RuleGroups() ([]RuleGroup, error) {
	var out []RuleGroup
	err := eachFile("alerting/*.yaml", func(name string, b []byte) error {
		var doc struct {
			APIVersion int         `yaml:"apiVersion"`
			Groups     []RuleGroup `yaml:"groups"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return err
		}
		if doc.APIVersion != 1 {
			return fmt.Errorf("apiVersion %d, want 1", doc.APIVersion)
		}
		out = append(out, doc.Groups...)
		return nil
	})
	return out, err
}

func eachFile(pattern string, fn func(name string, b []byte) error) error {
	names, err := fs.Glob(files, pattern)
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		b, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		if err := fn(name, b); err != nil {
			return fmt.Errorf("provisioning/%s: %w", name, err)
		}
	}
	return nil
}
