package distcheck

import (
	"archive/zip"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDist checks the real dist: the one named by SVIEW_DIST_DIR (set by `go tool mage test`,
// which builds it first), else ../../dist. A missing dist fails: the check must never pass
// because there was nothing to check. SVIEW_DIST_ZIP, when set, names a zip to check as well.
func TestDist(t *testing.T) {
	dir := os.Getenv("SVIEW_DIST_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "dist")
	}
	if _, err := os.Stat(filepath.Join(dir, "plugin.json")); err != nil {
		t.Fatalf("no built plugin in %s (%v): run `go tool mage build` (or `go tool mage distLinux`) first, or point SVIEW_DIST_DIR at a dist", dir, err)
	}
	opts := Options{PackageJSON: filepath.Join("..", "..", "plugin", "package.json")}
	problems, err := CheckDir(dir, opts)
	require.NoError(t, err)
	require.Empty(t, problems, "dist %s breaks validator rules", dir)

	if z := os.Getenv("SVIEW_DIST_ZIP"); z != "" {
		problems, err := CheckZip(z, opts)
		require.NoError(t, err)
		require.Empty(t, problems, "zip %s breaks validator rules", z)
	}
}

// binaries builds the stand-in backend for linux/amd64 and linux/arm64 once per test.
func binaries(t *testing.T) (amd64, arm64 string) {
	t.Helper()
	dir := t.TempDir()
	for _, arch := range []string{"amd64", "arm64"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, arch), "./testdata/gobinary")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "build stand-in binary: %s", out)
	}
	return filepath.Join(dir, "amd64"), filepath.Join(dir, "arm64")
}

func copyFile(t *testing.T, from, to string, mode fs.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(to), 0o755))
	require.NoError(t, os.WriteFile(to, b, mode))
	require.NoError(t, os.Chmod(to, mode)) // WriteFile's mode is filtered by the umask
}

// goodDist copies testdata/good plus a linux/amd64 backend into a fresh directory.
func goodDist(t *testing.T, amd64 string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "good"))))
	copyFile(t, amd64, filepath.Join(dir, "gpx_fixture_linux_amd64"), 0o755)
	return dir
}

// editPluginJSON changes plugin.json of a fixture dist through a generic map.
func editPluginJSON(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	file := filepath.Join(dir, "plugin.json")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	edit(m)
	b, err = json.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, b, 0o644))
}

func info(m map[string]any) map[string]any { return m["info"].(map[string]any) }

func rules(problems []Problem) []Rule {
	out := make([]Rule, 0, len(problems))
	for _, p := range problems {
		out = append(out, p.Rule)
	}
	return out
}

func TestCheckDirRules(t *testing.T) {
	amd64, arm64 := binaries(t)
	fixturePackage := filepath.Join("testdata", "package.json")

	cases := []struct {
		name    string
		breakIt func(t *testing.T, dir string)
		want    Rule
		// a fragment of the message, so the problem is named, not only classified
		msg string
	}{
		{"plugin.json missing", func(t *testing.T, d string) { require.NoError(t, os.Remove(filepath.Join(d, "plugin.json"))) }, RuleMetadata, "plugin.json is missing"},
		{"plugin.json garbled", func(t *testing.T, d string) {
			require.NoError(t, os.WriteFile(filepath.Join(d, "plugin.json"), []byte("{"), 0o644))
		}, RuleMetadata, "does not parse"},
		{"no keywords", func(t *testing.T, d string) {
			editPluginJSON(t, d, func(m map[string]any) { delete(info(m), "keywords") })
		}, RuleMetadata, "info.keywords"},
		{"no logos", func(t *testing.T, d string) {
			editPluginJSON(t, d, func(m map[string]any) { delete(info(m), "logos") })
		}, RuleMetadata, "info.logos"},
		{"no type", func(t *testing.T, d string) { editPluginJSON(t, d, func(m map[string]any) { delete(m, "type") }) }, RuleMetadata, "type is missing"},
		{"no grafanaDependency", func(t *testing.T, d string) {
			editPluginJSON(t, d, func(m map[string]any) { delete(m, "dependencies") })
		}, RuleMetadata, "grafanaDependency is missing"},
		{"id pattern", func(t *testing.T, d string) {
			editPluginJSON(t, d, func(m map[string]any) { m["id"] = "Acme_fixture-datasource" })
		}, RuleID, "does not match"},
		{"id type suffix", func(t *testing.T, d string) { editPluginJSON(t, d, func(m map[string]any) { m["type"] = "panel" }) }, RuleID, "does not end in -panel"},
		{"name is the id", func(t *testing.T, d string) { editPluginJSON(t, d, func(m map[string]any) { m["name"] = m["id"] }) }, RuleName, "is the id"},
		{"grafanaDependency not a range", func(t *testing.T, d string) {
			editPluginJSON(t, d, func(m map[string]any) { m["dependencies"] = map[string]any{"grafanaDependency": "latest"} })
		}, RuleGrafanaDependency, `"latest"`},
		{"version not replaced", func(t *testing.T, d string) {
			editPluginJSON(t, d, func(m map[string]any) { info(m)["version"] = "%VERSION%" })
		}, RuleVersion, "%VERSION%"},
		{"updated not replaced", func(t *testing.T, d string) {
			editPluginJSON(t, d, func(m map[string]any) { info(m)["updated"] = "%TODAY%" })
		}, RuleVersion, "%TODAY%"},
		{"package.json version differs", func(t *testing.T, d string) {
			editPluginJSON(t, d, func(m map[string]any) { info(m)["version"] = "1.2.4" })
		}, RulePackageJSON, `"1.2.3" differs from plugin.json version "1.2.4"`},
		{"alerting without backend", func(t *testing.T, d string) {
			editPluginJSON(t, d, func(m map[string]any) { m["backend"] = false; delete(m, "executable") })
		}, RuleBackend, "alerting is true but backend is not"},
		{"backend without executable", func(t *testing.T, d string) { editPluginJSON(t, d, func(m map[string]any) { delete(m, "executable") }) }, RuleBackend, "set both or neither"},
		{"linux/amd64 binary missing", func(t *testing.T, d string) {
			require.NoError(t, os.Rename(filepath.Join(d, "gpx_fixture_linux_amd64"), filepath.Join(d, "gpx_fixture_linux_arm64")))
		}, RuleBackend, "gpx_fixture_linux_amd64 is missing"},
		{"binary not executable", func(t *testing.T, d string) {
			require.NoError(t, os.Chmod(filepath.Join(d, "gpx_fixture_linux_amd64"), 0o644))
		}, RulePermissions, "want 0755"},
		{"other binary not executable", func(t *testing.T, d string) { copyFile(t, arm64, filepath.Join(d, "gpx_fixture_linux_arm64"), 0o700) }, RulePermissions, "gpx_fixture_linux_arm64 has mode 0700"},
		{"binary is not Go", func(t *testing.T, d string) {
			require.NoError(t, os.WriteFile(filepath.Join(d, "gpx_fixture_linux_amd64"), []byte("#!/bin/sh\n"), 0o755))
		}, RuleBackend, "is not a Go binary"},
		{"binary for the wrong platform", func(t *testing.T, d string) { copyFile(t, arm64, filepath.Join(d, "gpx_fixture_linux_amd64"), 0o755) }, RuleBackend, "linux/arm64, want linux/amd64"},
		{"manifest missing", func(t *testing.T, d string) {
			require.NoError(t, os.Remove(filepath.Join(d, "go_plugin_build_manifest")))
		}, RuleManifest, "go_plugin_build_manifest"},
		{"standalone.txt left", func(t *testing.T, d string) {
			require.NoError(t, os.WriteFile(filepath.Join(d, "standalone.txt"), []byte("127.0.0.1:1"), 0o644))
		}, RuleDebug, "standalone.txt"},
		{"pid.txt in a sub folder", func(t *testing.T, d string) {
			require.NoError(t, os.WriteFile(filepath.Join(d, "img", "pid.txt"), []byte("1"), 0o644))
		}, RuleDebug, "img/pid.txt"},
		{"module.js missing", func(t *testing.T, d string) { require.NoError(t, os.Remove(filepath.Join(d, "module.js"))) }, RuleModule, "module.js is missing"},
		{"source map missing", func(t *testing.T, d string) { require.NoError(t, os.Remove(filepath.Join(d, "module.js.map"))) }, RuleSourceMap, "module.js.map"},
		{"README missing", func(t *testing.T, d string) { require.NoError(t, os.Remove(filepath.Join(d, "README.md"))) }, RuleReadme, "README.md is missing"},
		{"README is the template", func(t *testing.T, d string) {
			copyFile(t, filepath.Join("testdata", "template-README.md"), filepath.Join(d, "README.md"), 0o644)
		}, RuleReadme, "create-plugin template"},
		{"CHANGELOG missing", func(t *testing.T, d string) { require.NoError(t, os.Remove(filepath.Join(d, "CHANGELOG.md"))) }, RuleChangelog, "CHANGELOG.md"},
		{"LICENSE missing", func(t *testing.T, d string) { require.NoError(t, os.Remove(filepath.Join(d, "LICENSE"))) }, RuleLicense, "LICENSE is missing"},
		{"LICENSE unrecognised", func(t *testing.T, d string) {
			require.NoError(t, os.WriteFile(filepath.Join(d, "LICENSE"), []byte("all mine\n"), 0o644))
		}, RuleLicense, "not a recognised licence"},
		{"logo missing", func(t *testing.T, d string) { require.NoError(t, os.Remove(filepath.Join(d, "img", "logo.svg"))) }, RuleLogos, "img/logo.svg"},
	}

	t.Run("good fixture passes", func(t *testing.T) {
		problems, err := CheckDir(goodDist(t, amd64), Options{PackageJSON: fixturePackage})
		require.NoError(t, err)
		require.Empty(t, problems)
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := goodDist(t, amd64)
			tc.breakIt(t, dir)
			problems, err := CheckDir(dir, Options{PackageJSON: fixturePackage})
			require.NoError(t, err)
			require.Contains(t, rules(problems), tc.want, "problems: %v", problems)
			i := slices.IndexFunc(problems, func(p Problem) bool { return p.Rule == tc.want && strings.Contains(p.Message, tc.msg) })
			require.GreaterOrEqual(t, i, 0, "no %s problem mentioning %q in %v", tc.want, tc.msg, problems)
		})
	}

	t.Run("missing directory is an error, not a pass", func(t *testing.T) {
		_, err := CheckDir(filepath.Join(t.TempDir(), "nope"), Options{})
		require.Error(t, err)
	})
}

func TestValidRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{">=11.6.0", true},
		{">=10.4.0 <13", true},
		{"^11.0.0 || >=12.1.0", true},
		{"11.x", true},
		{"10.0.0 - 11.2.0", true},
		{">=11.6.0-pre", true},
		{"", false},
		{"latest", false},
		{">= 11", false},
		{"11.6.0 ||", false},
		{"=>11.6.0", false},
	} {
		require.Equal(t, tc.want, ValidRange(tc.in), "%q", tc.in)
	}
}

// writeZip packs files (name → content and mode) as a zip, for layouts Zip would never write.
func writeZip(t *testing.T, files map[string]*zipEntry) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "plugin.zip")
	f, err := os.Create(out)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	for name, e := range files {
		hdr := &zip.FileHeader{Name: name, Method: zip.Deflate}
		hdr.SetMode(e.mode)
		w, err := zw.CreateHeader(hdr)
		require.NoError(t, err)
		_, err = w.Write(e.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
	return out
}

type zipEntry struct {
	data []byte
	mode fs.FileMode
}

// entries reads a dist directory into zip entries under prefix.
func entries(t *testing.T, dir, prefix string) map[string]*zipEntry {
	t.Helper()
	out := map[string]*zipEntry{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		st, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		out[prefix+filepath.ToSlash(rel)] = &zipEntry{data: b, mode: st.Mode()}
		return err
	}))
	return out
}

func TestZip(t *testing.T) {
	amd64, _ := binaries(t)

	t.Run("Zip writes the validator layout and keeps modes", func(t *testing.T) {
		dir := goodDist(t, amd64)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "standalone.txt"), []byte("x"), 0o644))
		out, err := Zip(dir, t.TempDir())
		require.NoError(t, err)
		require.Equal(t, "acme-fixture-datasource-1.2.3.zip", filepath.Base(out))

		problems, err := CheckZip(out, Options{PackageJSON: filepath.Join("testdata", "package.json")})
		require.NoError(t, err)
		require.Empty(t, problems, "standalone.txt must be left out and the binary stay 0755")

		zr, err := zip.OpenReader(out)
		require.NoError(t, err)
		defer zr.Close()
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		require.Contains(t, names, "acme-fixture-datasource/gpx_fixture_linux_amd64")
		require.Contains(t, names, "acme-fixture-datasource/img/logo.svg")
		rc, err := zr.Open("acme-fixture-datasource/plugin.json")
		require.NoError(t, err)
		_, err = io.ReadAll(rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
	})

	cases := []struct {
		name  string
		files func(good map[string]*zipEntry) map[string]*zipEntry
		want  Rule
		msg   string
	}{
		{"top folder is not the id", func(g map[string]*zipEntry) map[string]*zipEntry {
			return rename(g, "acme-fixture-datasource/", "dist/")
		}, RuleArchive, `top-level folder "dist" is not the plugin id`},
		{"two top folders", func(g map[string]*zipEntry) map[string]*zipEntry {
			g["other/README.md"] = &zipEntry{data: []byte("x"), mode: 0o644}
			return g
		}, RuleArchive, "exactly one top-level folder, got 2"},
		{"files at the top level", func(g map[string]*zipEntry) map[string]*zipEntry { return rename(g, "acme-fixture-datasource/", "") }, RuleArchive, "lies at the top level"},
		{"nested dist", func(g map[string]*zipEntry) map[string]*zipEntry {
			return rename(g, "acme-fixture-datasource/", "acme-fixture-datasource/dist/")
		}, RuleArchive, "nested dist/"},
		{"binary mode lost in the zip", func(g map[string]*zipEntry) map[string]*zipEntry {
			g["acme-fixture-datasource/gpx_fixture_linux_amd64"].mode = 0o644
			return g
		}, RulePermissions, "want 0755"},
		{"pid.txt packed", func(g map[string]*zipEntry) map[string]*zipEntry {
			g["acme-fixture-datasource/pid.txt"] = &zipEntry{data: []byte("1"), mode: 0o644}
			return g
		}, RuleDebug, "pid.txt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			good := entries(t, goodDist(t, amd64), "acme-fixture-datasource/")
			z := writeZip(t, tc.files(good))
			problems, err := CheckZip(z, Options{})
			require.NoError(t, err)
			i := slices.IndexFunc(problems, func(p Problem) bool { return p.Rule == tc.want && strings.Contains(p.Message, tc.msg) })
			require.GreaterOrEqual(t, i, 0, "no %s problem mentioning %q in %v", tc.want, tc.msg, problems)
		})
	}
}

func rename(files map[string]*zipEntry, from, to string) map[string]*zipEntry {
	out := map[string]*zipEntry{}
	for name, e := range files {
		out[to+strings.TrimPrefix(name, from)] = e
	}
	return out
}
