package distcheck

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// sourceTree writes a small repository laid out as ours (Go module at the root, frontend under
// plugin/) and the dist built from it; it returns both directories and the repository's files.
func sourceTree(t *testing.T) (root, dist string, files []string) {
	t.Helper()
	root, dist = t.TempDir(), t.TempDir()
	tree := map[string]string{
		"go.mod":              "module example.com/p\n",
		"Magefile.go":         "package main\n\nimport _ \"github.com/grafana/grafana-plugin-sdk-go/build\"\n",
		"README.md":           "the project\n",
		"plugin/pkg/main.go":  "package main\n\nfunc main() {}\n",
		"plugin/README.md":    "the catalog page\n",
		"plugin/package.json": `{"name": "p", "version": "1.2.0"}`,
		"plugin/.config/webpack/webpack.config.ts": "// scaffolded by @grafana/create-plugin\n",
		"plugin/src/module.ts":                     "export const plugin = 1;\n",
		"plugin/node_modules/flatted/flatted.go":   "package flatted\n",
	}
	var manifest strings.Builder
	for name, content := range tree {
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		if !strings.Contains(name, "node_modules") {
			files = append(files, name)
		}
		if strings.HasSuffix(name, ".go") {
			sum := sha256.Sum256([]byte(content))
			manifest.WriteString(hex.EncodeToString(sum[:]) + ":" + name + "\n")
		}
	}
	write := func(name string, v any) {
		b, ok := v.([]byte)
		if !ok {
			var err error
			b, err = json.Marshal(v)
			require.NoError(t, err)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dist, name), b, 0o644))
	}
	write("plugin.json", map[string]any{"id": "org-p-datasource", "info": map[string]any{"version": "1.2.0"}})
	write("go_plugin_build_manifest", []byte(manifest.String()))
	write("module.js.map", map[string]any{
		"sources":        []string{"webpack://org-p-datasource/./module.ts", "webpack://org-p-datasource/./node_modules/x/index.js"},
		"sourcesContent": []string{tree["plugin/src/module.ts"], "lib"},
	})
	return root, dist, files
}

func TestSourceZip(t *testing.T) {
	root, dist, files := sourceTree(t)
	out := filepath.Join(t.TempDir(), "source.zip")
	require.NoError(t, SourceZip(root, files, "plugin", "plugin/pkg", out))
	problems, err := CheckSource(out, dist)
	require.NoError(t, err)
	require.Empty(t, problems)

	zr, err := zip.OpenReader(out)
	require.NoError(t, err)
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	require.Contains(t, names, "package.json", "the frontend project at the root")
	require.Contains(t, names, "src/module.ts")
	require.Contains(t, names, "plugin/src/module.ts", "and where the module's build finds it")
	require.NotContains(t, names, "pkg/main.go", "the backend stays where the manifest names it")
	f, err := zr.Open("README.md")
	require.NoError(t, err)
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	require.Equal(t, "the project\n", string(b), "the root keeps its own README")
}

// TestCheckSourceRules breaks one rule at a time, as the validator would see it.
func TestCheckSourceRules(t *testing.T) {
	for _, tt := range []struct {
		name  string
		edit  func(root, dist string, files []string) []string
		rule  Rule
		inMsg string
	}{
		{"Go file changed after the build", func(root, _ string, files []string) []string {
			require.NoError(t, os.WriteFile(filepath.Join(root, "plugin/pkg/main.go"), []byte("package main\n"), 0o644))
			return files
		}, RuleManifest, "plugin/pkg/main.go does not match"},
		{"new Go file", func(root, _ string, files []string) []string {
			require.NoError(t, os.WriteFile(filepath.Join(root, "extra.go"), []byte("package main\n"), 0o644))
			return append(files, "extra.go")
		}, RuleManifest, "extra.go is in the source but not in the manifest"},
		{"version bump in package.json only", func(root, _ string, files []string) []string {
			require.NoError(t, os.WriteFile(filepath.Join(root, "plugin/package.json"), []byte(`{"version": "1.3.0"}`), 0o644))
			return files
		}, RulePackageJSON, `"1.3.0" differs`},
		{"no create-plugin webpack config", func(_ string, _ string, files []string) []string {
			return without(files, "plugin/.config/webpack/webpack.config.ts")
		}, RuleBuildTools, "webpack"},
		{"no Magefile", func(_ string, _ string, files []string) []string {
			return without(files, "Magefile.go")
		}, RuleBuildTools, "Magefile.go"},
		{"frontend source edited after the build", func(root, _ string, files []string) []string {
			require.NoError(t, os.WriteFile(filepath.Join(root, "plugin/src/module.ts"), []byte("export {};\n"), 0o644))
			return files
		}, RuleSourceMap, "src/module.ts differs"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root, dist, files := sourceTree(t)
			files = tt.edit(root, dist, files)
			out := filepath.Join(t.TempDir(), "source.zip")
			require.NoError(t, SourceZip(root, files, "plugin", "plugin/pkg", out))
			problems, err := CheckSource(out, dist)
			require.NoError(t, err)
			found := false
			for _, p := range problems {
				found = found || p.Rule == tt.rule && strings.Contains(p.Message, tt.inMsg)
			}
			require.True(t, found, "want a %s problem about %q, got %v", tt.rule, tt.inMsg, problems)
		})
	}
}

func without(files []string, drop string) []string {
	var out []string
	for _, f := range files {
		if f != drop {
			out = append(out, f)
		}
	}
	return out
}
