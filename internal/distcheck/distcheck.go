// Package distcheck enforces, offline, the rules of Grafana's plugin validator that can be
// checked without network access: on a built dist directory and on the zip made from it.
// The validator itself downloads its binary from GitHub on first run, which cannot work here.
package distcheck

import (
	"archive/zip"
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Rule names one check; a Problem says which rule failed and why. Names follow the validator's
// analyzers where one matches (metadatavalid, backendbinary, …).
type Rule string

const (
	RuleMetadata          Rule = "metadatavalid"     // plugin.json present, parses, has the required fields
	RuleID                Rule = "id"                // id pattern and type suffix
	RuleName              Rule = "pluginname"        // a human name, not the id
	RuleGrafanaDependency Rule = "grafanadependency" // dependencies.grafanaDependency is a semver range
	RuleVersion           Rule = "version"           // version and updated replaced by the build
	RulePackageJSON       Rule = "packagejson"       // package.json version == plugin.json version
	RuleBackend           Rule = "backendbinary"     // backend ⇔ executable, alerting ⇒ backend, linux/amd64 Go binary
	RulePermissions       Rule = "binarypermissions" // executables are 0755
	RuleManifest          Rule = "go-manifest"       // go_plugin_build_manifest present
	RuleDebug             Rule = "backenddebug"      // no standalone.txt or pid.txt
	RuleModule            Rule = "modulejs"          // module.js present
	RuleSourceMap         Rule = "jsMap"             // module.js.map present
	RuleReadme            Rule = "readme"            // README.md present, not the create-plugin template
	RuleChangelog         Rule = "changelog"         // CHANGELOG.md present
	RuleLicense           Rule = "license"           // LICENSE present and a recognised licence
	RuleLogos             Rule = "metadatapaths"     // logos and screenshots exist
	RuleArchive           Rule = "archive"           // zip: one top folder named by the id, no nested dist/
)

// Problem is one broken rule.
type Problem struct {
	Rule    Rule
	Message string
}

func (p Problem) String() string { return string(p.Rule) + ": " + p.Message }

// Options say what to compare the dist against.
type Options struct {
	// PackageJSON is the path of the frontend's package.json, whose version the plugin.json
	// version must equal. Empty skips that rule (a zip on its own carries no package.json).
	PackageJSON string
}

// idPattern is the validator's plugin id pattern.
var idPattern = regexp.MustCompile(`^[0-9a-z]+\-([0-9a-z]+\-)?(app|panel|datasource)$`)

// semverRange accepts the npm/semver range syntax Grafana uses for grafanaDependency: comparator
// sets joined by "||", each a list of (operator)version tokens, or a hyphen range.
var (
	semverVersion = `v?(0|[1-9]\d*|x|X|\*)(\.(0|[1-9]\d*|x|X|\*)){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?`
	comparator    = regexp.MustCompile(`^(>=|<=|>|<|=|~|\^)?` + semverVersion + `$`)
	hyphenRange   = regexp.MustCompile(`^` + semverVersion + ` - ` + semverVersion + `$`)
	exactVersion  = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	isoDate       = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// Markers of the create-plugin README template that the validator's templatereadme rule looks for.
var templateReadmeMarkers = []string{
	"This README file is going to be the one displayed on the Grafana.com website",
	"To help maximize the impact of your README",
	"**BEFORE YOU BEGIN**",
}

var licenceMarkers = []string{"MIT License", "Apache License", "BSD", "GNU GENERAL PUBLIC LICENSE", "GNU AFFERO", "GNU LESSER", "Mozilla Public License"}

// pluginJSON is the part of plugin.json the rules read.
type pluginJSON struct {
	Type       string `json:"type"`
	Name       string `json:"name"`
	ID         string `json:"id"`
	Backend    bool   `json:"backend"`
	Alerting   bool   `json:"alerting"`
	Executable string `json:"executable"`
	Info       *struct {
		Keywords []string `json:"keywords"`
		Logos    *struct {
			Small string `json:"small"`
			Large string `json:"large"`
		} `json:"logos"`
		Screenshots []struct {
			Path string `json:"path"`
		} `json:"screenshots"`
		Version string `json:"version"`
		Updated string `json:"updated"`
	} `json:"info"`
	Dependencies *struct {
		GrafanaDependency string `json:"grafanaDependency"`
	} `json:"dependencies"`
}

// ValidRange reports whether s is a semver range as plugin.json's grafanaDependency needs.
func ValidRange(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for set := range strings.SplitSeq(s, "||") {
		set = strings.TrimSpace(set)
		if set == "" {
			return false
		}
		if hyphenRange.MatchString(set) {
			continue
		}
		for tok := range strings.FieldsSeq(set) {
			if !comparator.MatchString(tok) {
				return false
			}
		}
	}
	return true
}

// CheckDir checks a dist directory.
func CheckDir(dir string, opts Options) ([]Problem, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("dist directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("dist directory %s is not a directory", dir)
	}
	return check(os.DirFS(dir), opts)
}

// CheckZip checks a plugin zip: its layout, then its top folder as a dist.
func CheckZip(file string, opts Options) ([]Problem, error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, fmt.Errorf("open zip: %w", err)
	}
	defer zr.Close()

	tops := map[string]bool{}
	var problems []Problem
	for _, f := range zr.File {
		name := strings.TrimPrefix(f.Name, "./")
		top, rest, _ := strings.Cut(name, "/")
		tops[top] = true
		if rest == "" && !f.FileInfo().IsDir() {
			problems = append(problems, Problem{RuleArchive, fmt.Sprintf("%s lies at the top level; everything belongs in one folder named by the plugin id", name)})
		}
		if slices.Contains(strings.Split(rest, "/"), "dist") {
			problems = append(problems, Problem{RuleArchive, fmt.Sprintf("%s: nested dist/ folder; zip the contents of dist, not dist itself", name)})
		}
	}
	if len(tops) != 1 {
		names := make([]string, 0, len(tops))
		for t := range tops {
			names = append(names, t)
		}
		slices.Sort(names)
		return append(problems, Problem{RuleArchive, fmt.Sprintf("want exactly one top-level folder, got %d: %s", len(names), strings.Join(names, ", "))}), nil
	}
	var top string
	for t := range tops {
		top = t
	}
	sub, err := fs.Sub(zr, top)
	if err != nil {
		return nil, fmt.Errorf("zip folder %s: %w", top, err)
	}
	inner, err := check(sub, opts)
	if err != nil {
		return nil, err
	}
	problems = append(problems, inner...)
	if p, err := readPluginJSON(sub); err == nil && p.ID != "" && p.ID != top {
		problems = append(problems, Problem{RuleArchive, fmt.Sprintf("top-level folder %q is not the plugin id %q", top, p.ID)})
	}
	return problems, nil
}

func readPluginJSON(fsys fs.FS) (pluginJSON, error) {
	var p pluginJSON
	b, err := fs.ReadFile(fsys, "plugin.json")
	if err != nil {
		return p, err
	}
	return p, json.Unmarshal(b, &p)
}

// checker collects problems over one dist file system.
type checker struct {
	fsys     fs.FS
	problems []Problem
}

func (c *checker) add(rule Rule, format string, args ...any) {
	c.problems = append(c.problems, Problem{rule, fmt.Sprintf(format, args...)})
}

func (c *checker) exists(name string) bool {
	_, err := fs.Stat(c.fsys, name)
	return err == nil
}

func check(fsys fs.FS, opts Options) ([]Problem, error) {
	c := &checker{fsys: fsys}
	p, err := readPluginJSON(fsys)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.add(RuleMetadata, "plugin.json is missing")
	case err != nil:
		c.add(RuleMetadata, "plugin.json does not parse: %v", err)
	default:
		c.pluginJSON(p, opts)
	}
	if err := c.files(); err != nil {
		return nil, err
	}
	return c.problems, nil
}

func (c *checker) pluginJSON(p pluginJSON, opts Options) {
	for field, v := range map[string]string{"type": p.Type, "name": p.Name, "id": p.ID} {
		if v == "" {
			c.add(RuleMetadata, "plugin.json: %s is missing", field)
		}
	}
	if p.ID != "" && !idPattern.MatchString(p.ID) {
		c.add(RuleID, "id %q does not match %s", p.ID, idPattern)
	}
	if p.ID != "" && p.Type != "" && !strings.HasSuffix(p.ID, "-"+p.Type) {
		c.add(RuleID, "id %q does not end in -%s (the plugin type)", p.ID, p.Type)
	}
	if p.Name != "" && p.Name == p.ID {
		c.add(RuleName, "name %q is the id; give a human-readable name", p.Name)
	}

	if p.Info == nil {
		c.add(RuleMetadata, "plugin.json: info is missing")
	} else {
		if len(p.Info.Keywords) == 0 {
			c.add(RuleMetadata, "plugin.json: info.keywords is missing or empty")
		}
		if p.Info.Logos == nil || p.Info.Logos.Small == "" || p.Info.Logos.Large == "" {
			c.add(RuleMetadata, "plugin.json: info.logos needs small and large")
		} else {
			for _, logo := range []string{p.Info.Logos.Small, p.Info.Logos.Large} {
				if !c.exists(path.Clean(logo)) {
					c.add(RuleLogos, "logo %s (info.logos) is not in the dist", logo)
				}
			}
		}
		for _, s := range p.Info.Screenshots {
			if !c.exists(path.Clean(s.Path)) {
				c.add(RuleLogos, "screenshot %s (info.screenshots) is not in the dist", s.Path)
			}
		}
		switch v := p.Info.Version; {
		case v == "":
			c.add(RuleMetadata, "plugin.json: info.version is missing")
		case strings.Contains(v, "%VERSION%"):
			c.add(RuleVersion, "info.version is still %%VERSION%%: plugin.json was copied, not built")
		case !exactVersion.MatchString(v):
			c.add(RuleVersion, "info.version %q is not a semantic version", v)
		}
		switch u := p.Info.Updated; {
		case u == "":
			c.add(RuleMetadata, "plugin.json: info.updated is missing")
		case strings.Contains(u, "%TODAY%"):
			c.add(RuleVersion, "info.updated is still %%TODAY%%: plugin.json was copied, not built")
		case !isoDate.MatchString(u):
			c.add(RuleVersion, "info.updated %q is not a YYYY-MM-DD date", u)
		}
		if opts.PackageJSON != "" {
			c.packageVersion(opts.PackageJSON, p.Info.Version)
		}
	}

	if p.Dependencies == nil || p.Dependencies.GrafanaDependency == "" {
		c.add(RuleMetadata, "plugin.json: dependencies.grafanaDependency is missing")
	} else if !ValidRange(p.Dependencies.GrafanaDependency) {
		c.add(RuleGrafanaDependency, "dependencies.grafanaDependency %q is not a semver range (e.g. >=11.6.0)", p.Dependencies.GrafanaDependency)
	}

	if p.Alerting && !p.Backend {
		c.add(RuleBackend, "alerting is true but backend is not: alert rules need the backend")
	}
	if p.Backend != (p.Executable != "") {
		c.add(RuleBackend, "backend is %t but executable is %q: set both or neither", p.Backend, p.Executable)
	}
	if p.Executable != "" {
		c.binaries(p.Executable)
		if !c.exists("go_plugin_build_manifest") {
			c.add(RuleManifest, "go_plugin_build_manifest is missing (the SDK's mage build writes it)")
		}
	}
}

func (c *checker) packageVersion(file, version string) {
	b, err := os.ReadFile(file) // #nosec G304 -- the package.json of the tree being checked
	if err != nil {
		c.add(RulePackageJSON, "read package.json: %v", err)
		return
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		c.add(RulePackageJSON, "%s does not parse: %v", file, err)
		return
	}
	if pkg.Version != version {
		c.add(RulePackageJSON, "package.json version %q differs from plugin.json version %q: rebuild the frontend", pkg.Version, version)
	}
}

// binaries checks every <exe>_<os>_<arch> file and that a Go linux/amd64 one is among them.
func (c *checker) binaries(exe string) {
	entries, err := fs.ReadDir(c.fsys, ".")
	if err != nil {
		c.add(RuleBackend, "list dist: %v", err)
		return
	}
	found := false
	for _, e := range entries {
		if e.IsDir() || !strings.HasPrefix(e.Name(), exe+"_") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			c.add(RuleBackend, "%s: %v", e.Name(), err)
			continue
		}
		if perm := info.Mode().Perm(); perm != 0o755 {
			c.add(RulePermissions, "%s has mode %#o, want 0755", e.Name(), perm)
		}
		if e.Name() == exe+"_linux_amd64" {
			found = true
			c.linuxAMD64(e.Name())
		}
	}
	if !found {
		c.add(RuleBackend, "%s_linux_amd64 is missing: Grafana on linux/amd64 cannot start the backend", exe)
	}
}

func (c *checker) linuxAMD64(name string) {
	b, err := fs.ReadFile(c.fsys, name)
	if err != nil {
		c.add(RuleBackend, "read %s: %v", name, err)
		return
	}
	bi, err := buildinfo.Read(bytes.NewReader(b))
	if err != nil {
		c.add(RuleBackend, "%s is not a Go binary: %v", name, err)
		return
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if settings["GOOS"] != "linux" || settings["GOARCH"] != "amd64" {
		c.add(RuleBackend, "%s was built for %s/%s, want linux/amd64", name, settings["GOOS"], settings["GOARCH"])
	}
}

// files checks the files every dist needs and the ones it must not have.
func (c *checker) files() error {
	err := fs.WalkDir(c.fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if base := path.Base(name); !d.IsDir() && (base == "standalone.txt" || base == "pid.txt") {
			c.add(RuleDebug, "%s is left from a standalone debug run: remove it (Grafana would talk to a dead process)", name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("walk dist: %w", err)
	}
	if !c.exists("module.js") {
		c.add(RuleModule, "module.js is missing: build the frontend")
	} else if !c.exists("module.js.map") {
		c.add(RuleSourceMap, "module.js.map is missing")
	}
	if !c.exists("CHANGELOG.md") {
		c.add(RuleChangelog, "CHANGELOG.md is missing")
	}
	if b, err := fs.ReadFile(c.fsys, "README.md"); err != nil {
		c.add(RuleReadme, "README.md is missing")
	} else {
		text := string(b)
		if strings.TrimSpace(text) == "" {
			c.add(RuleReadme, "README.md is empty")
		}
		for _, m := range templateReadmeMarkers {
			if strings.Contains(text, m) {
				c.add(RuleReadme, "README.md is the create-plugin template (contains %q)", m)
				break
			}
		}
	}
	if b, err := fs.ReadFile(c.fsys, "LICENSE"); err != nil {
		c.add(RuleLicense, "LICENSE is missing")
	} else if !slices.ContainsFunc(licenceMarkers, func(m string) bool { return bytes.Contains(b, []byte(m)) }) {
		c.add(RuleLicense, "LICENSE is not a recognised licence (want one of %s)", strings.Join(licenceMarkers, ", "))
	}
	return nil
}
