// Package dashboards holds sview's Grafana dashboards as JSON, one file per page, embedded so
// that tests (and tools) read exactly what Grafana is provisioned with.
package dashboards

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

//go:embed *.json
var files embed.FS

// DatasourceUID is the uid every panel, target and query variable must use: the datasource that
// provisioning/datasources/sview.yaml creates.
const DatasourceUID = "sview"

// DatasourceType is the plugin id of that datasource.
const DatasourceType = "sview-sentinel-datasource"

// DashboardRange is the value of the period picker's "Dashboard range" entry: the query model's
// "" (follow the dashboard's time range). Grafana's custom-variable syntax "text : value" needs a
// non-empty value, so the entry is written "Dashboard range :  " (a blank value) and Grafana's
// trimming of option values turns it into "".
const DashboardRange = ""

// Dashboard is the part of a Grafana dashboard model that the tests and tools look at; Raw
// keeps the whole document.
type Dashboard struct {
	File       string  `json:"-"`
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Desc       string  `json:"description"`
	Schema     int     `json:"schemaVersion"`
	Panels     []Panel `json:"panels"`
	Templating struct {
		List []Variable `json:"list"`
	} `json:"templating"`
	Raw map[string]any `json:"-"`
}

// Panel is one panel; rows carry their collapsed children in Panels.
type Panel struct {
	ID         int               `json:"id"`
	Type       string            `json:"type"`
	Title      string            `json:"title"`
	Datasource *Ref              `json:"datasource"`
	Targets    []json.RawMessage `json:"targets"`
	Panels     []Panel           `json:"panels"`
}

// Ref is a datasource reference.
type Ref struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Variable is one template variable.
type Variable struct {
	Name       string          `json:"name"`
	Definition string          `json:"definition"`
	Type       string          `json:"type"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	Datasource *Ref            `json:"datasource"`
	Query      json.RawMessage `json:"query"`
	Current    struct {
		Value any `json:"value"`
	} `json:"current"`
	Options []struct {
		Text  string `json:"text"`
		Value string `json:"value"`
	} `json:"options"`
}

// Option is one choice of a custom variable.
type Option struct {
	Text, Value string
}

var customOption = regexp.MustCompile(`^\s*(.+)\s:\s(.+)$`)

// CustomOptions are the choices of a custom variable the way Grafana derives them from its
// query: comma-separated entries ("\," escapes a comma), each "text : value" or a bare value,
// both trimmed.
func (v Variable) CustomOptions() ([]Option, error) {
	var q string
	if err := json.Unmarshal(v.Query, &q); err != nil {
		return nil, fmt.Errorf("custom variable $%s: query must be a string: %w", v.Name, err)
	}
	var out []Option
	for _, entry := range splitUnescaped(q) {
		if m := customOption.FindStringSubmatch(entry); m != nil {
			out = append(out, Option{Text: strings.TrimSpace(m[1]), Value: strings.TrimSpace(m[2])})
			continue
		}
		out = append(out, Option{Text: strings.TrimSpace(entry), Value: strings.TrimSpace(entry)})
	}
	return out, nil
}

func splitUnescaped(s string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == ',':
			cur.WriteByte(',')
			i++
		case s[i] == ',':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// Target is one query of a panel, in the plugin's query JSON (DESIGN §4).
type Target struct {
	Panel Panel
	RefID string
	JSON  json.RawMessage
}

// Load parses every embedded dashboard, sorted by file name.
func Load() ([]Dashboard, error) {
	names, err := fs.Glob(files, "*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]Dashboard, 0, len(names))
	for _, name := range names {
		d, err := parse(name)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func parse(name string) (Dashboard, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return Dashboard{}, fmt.Errorf("read dashboard %s: %w", name, err)
	}
	var d Dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		return Dashboard{}, fmt.Errorf("parse dashboard %s: %w", name, err)
	}
	if err := json.Unmarshal(b, &d.Raw); err != nil {
		return Dashboard{}, fmt.Errorf("parse dashboard %s: %w", name, err)
	}
	d.File = path.Base(name)
	return d, nil
}

// AllPanels lists the panels of d, rows' nested panels included, in document order.
func (d Dashboard) AllPanels() []Panel {
	var out []Panel
	var walk func([]Panel)
	walk = func(ps []Panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// Targets lists every query of every panel of d.
func (d Dashboard) Targets() ([]Target, error) {
	var out []Target
	for _, p := range d.AllPanels() {
		for i, raw := range p.Targets {
			var head struct {
				RefID string `json:"refId"`
			}
			if err := json.Unmarshal(raw, &head); err != nil {
				return nil, fmt.Errorf("%s panel %d (%q) target %d: %w", d.File, p.ID, p.Title, i, err)
			}
			out = append(out, Target{Panel: p, RefID: head.RefID, JSON: raw})
		}
	}
	return out, nil
}

// Variable finds a template variable by name.
func (d Dashboard) Variable(name string) (Variable, bool) {
	for _, v := range d.Templating.List {
		if v.Name == name {
			return v, true
		}
	}
	return Variable{}, false
}
