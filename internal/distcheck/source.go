package distcheck

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// RuleBuildTools is the validator's buildtools analyzer, which only runs on the source.
const RuleBuildTools Rule = "buildtools" // create-plugin's webpack config and the SDK's mage build

// SourceZip writes the source archive the catalog reviews beside the plugin zip (the validator's
// -sourceCodeUri). The validator reads the frontend project from the archive's root (package.json,
// .config/, src/) and the Go manifest's paths from the module root, so the archive holds files
// (paths relative to root: the module as built) at their paths, and the frontend project, every
// file under frontend except those under backend, once more at the root. A file the root has
// already (README.md, LICENSE, …) keeps the root's version.
func SourceZip(root string, files []string, frontend, backend, out string) error {
	entries := map[string]string{} // name in the zip → path on disk
	for _, f := range files {
		entries[filepath.ToSlash(f)] = filepath.Join(root, f)
	}
	for _, f := range files {
		name := filepath.ToSlash(f)
		lifted, ok := strings.CutPrefix(name, frontend+"/")
		if !ok || strings.HasPrefix(name, backend+"/") {
			continue
		}
		if _, taken := entries[lifted]; !taken {
			entries[lifted] = filepath.Join(root, f)
		}
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	slices.Sort(names)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil { // #nosec G301 -- release output, shared like the plugin zip
		return err
	}
	zf, err := os.Create(out) // #nosec G304 -- the source zip the caller names
	if err != nil {
		return fmt.Errorf("create source zip: %w", err)
	}
	zw := zip.NewWriter(zf)
	var werr error
	for _, n := range names {
		if werr = addFile(zw, n, entries[n]); werr != nil {
			break
		}
	}
	if err := errors.Join(werr, zw.Close(), zf.Close()); err != nil {
		_ = os.Remove(out)
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}

func addFile(zw *zip.Writer, name, file string) error {
	info, err := os.Stat(file)
	if err != nil {
		return err
	}
	hdr, err := zip.FileInfoHeader(info)
	if err != nil {
		return err
	}
	hdr.Name, hdr.Method = name, zip.Deflate
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	src, err := os.Open(file) // #nosec G304 -- a file of the repository being packed
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = io.Copy(w, src)
	return err
}

// CheckSource checks a source archive against the dist built from it, with the validator's
// source rules that need no network: packagejson, buildtools, jsMap (src/ holds what the
// source map of module.js was built from) and go-manifest (the manifest lists exactly the
// archive's Go files outside node_modules, with their sha256).
func CheckSource(sourceZip, dist string) ([]Problem, error) {
	zr, err := zip.OpenReader(sourceZip)
	if err != nil {
		return nil, fmt.Errorf("open source zip: %w", err)
	}
	defer zr.Close()
	distFS := os.DirFS(dist)
	p, err := readPluginJSON(distFS)
	if err != nil {
		return nil, fmt.Errorf("read %s/plugin.json: %w", dist, err)
	}
	c := &checker{fsys: zr}
	if p.Info != nil {
		c.sourcePackageJSON(p.Info.Version)
	}
	c.buildTools()
	if err := c.sourceMap(distFS, p.ID); err != nil {
		return nil, err
	}
	if err := c.goManifest(distFS); err != nil {
		return nil, err
	}
	return c.problems, nil
}

func (c *checker) sourcePackageJSON(version string) {
	var pkg struct {
		Version string `json:"version"`
	}
	b, err := fs.ReadFile(c.fsys, "package.json")
	if err == nil {
		err = json.Unmarshal(b, &pkg)
	}
	switch {
	case err != nil:
		c.add(RulePackageJSON, "no package.json at the root of the source: %v", err)
	case pkg.Version != version:
		c.add(RulePackageJSON, "package.json version %q differs from plugin.json version %q", pkg.Version, version)
	}
}

func (c *checker) buildTools() {
	if b, err := fs.ReadFile(c.fsys, ".config/webpack/webpack.config.ts"); err != nil || !bytes.Contains(b, []byte("@grafana/create-plugin")) {
		c.add(RuleBuildTools, "no create-plugin webpack config at .config/webpack/webpack.config.ts")
	}
	if !c.exists("go.mod") {
		return
	}
	if b, err := fs.ReadFile(c.fsys, "Magefile.go"); err != nil || !bytes.Contains(b, []byte("grafana-plugin-sdk-go/build")) {
		c.add(RuleBuildTools, "go.mod at the root but no Magefile.go using grafana-plugin-sdk-go/build")
	}
}

// sourceMap compares every plugin source embedded in dist/module.js.map (webpack://<id>/./X)
// with src/X of the source archive.
func (c *checker) sourceMap(dist fs.FS, id string) error {
	b, err := fs.ReadFile(dist, "module.js.map")
	if errors.Is(err, fs.ErrNotExist) {
		return nil // the dist check reports it
	}
	if err != nil {
		return err
	}
	var m struct {
		Sources        []string `json:"sources"`
		SourcesContent []string `json:"sourcesContent"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		c.add(RuleSourceMap, "module.js.map does not parse: %v", err)
		return nil
	}
	prefix := "webpack://" + id + "/./"
	for i, s := range m.Sources {
		rel, ok := strings.CutPrefix(s, prefix)
		if !ok || strings.Contains(rel, "node_modules/") || i >= len(m.SourcesContent) {
			continue
		}
		got, err := fs.ReadFile(c.fsys, path.Join("src", rel))
		if err != nil {
			c.add(RuleSourceMap, "src/%s, a source of module.js, is not in the source archive", rel)
		} else if string(got) != m.SourcesContent[i] {
			c.add(RuleSourceMap, "src/%s differs from the source module.js was built from", rel)
		}
	}
	return nil
}

func (c *checker) goManifest(dist fs.FS) error {
	f, err := dist.Open("go_plugin_build_manifest")
	if errors.Is(err, fs.ErrNotExist) {
		return nil // the dist check reports it
	}
	if err != nil {
		return err
	}
	defer f.Close()
	manifest := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sum, name, ok := strings.Cut(sc.Text(), ":"); ok {
			manifest[name] = sum
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	seen := map[string]bool{}
	err = fs.WalkDir(c.fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".go") || slices.Contains(strings.Split(name, "/"), "node_modules") {
			return err
		}
		seen[name] = true
		b, err := fs.ReadFile(c.fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")))
		switch want, ok := manifest[name]; {
		case !ok:
			c.add(RuleManifest, "%s is in the source but not in the manifest", name)
		case want != hex.EncodeToString(sum[:]):
			c.add(RuleManifest, "%s does not match its manifest sha256", name)
		}
		return nil
	})
	for name := range manifest {
		if !seen[name] && !slices.Contains(strings.Split(name, "/"), "node_modules") {
			c.add(RuleManifest, "%s is in the manifest but not in the source", name)
		}
	}
	return err
}
