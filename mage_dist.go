//go:build mage

// Plugin targets: the frontend checks, the dist/ bundle Grafana loads, and the zip the plugin
// validator expects. The backend binaries come from the SDK's build package (imported as sdk:
// in Magefile.go, which points it at plugin/pkg and plugin/src).

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	build "github.com/grafana/grafana-plugin-sdk-go/build"
	"github.com/magefile/mage/mg"
	"golang.org/x/sync/errgroup"

	"github.com/sview-project/sview/internal/distcheck"
)

const (
	pluginDir   = "plugin"
	distDir     = "dist"
	artifactDir = "plugin/artifacts" // ignored by plugin/.gitignore
)

// Frontend checks the frontend: npm ci when plugin/node_modules is missing, then typecheck,
// lint and the jest tests. Each check runs whatever the others found, and the error names every
// one that failed. Jest's workers and timeout are in plugin/jest.config.js.
func Frontend(ctx context.Context) error {
	mg.CtxDeps(ctx, npmInstalled)
	var failed []error
	for _, script := range []string{"typecheck", "lint", "test:ci"} {
		if err := step("frontend: npm run "+script, func() error { return npm(ctx, "run", script) }); err != nil {
			failed = append(failed, err)
		}
	}
	return errors.Join(failed...)
}

// Build builds the whole plugin into dist/ from scratch: the frontend, the backend for linux
// amd64/arm64, darwin amd64/arm64 and windows amd64, and the files Grafana and the validator
// want (plugin.json, module.js, README, CHANGELOG, LICENSE, logos). A cold build takes minutes.
func Build(ctx context.Context) error {
	b := build.Build{}
	return buildDist(ctx, b.Linux, b.LinuxARM64, b.Darwin, b.DarwinARM64, b.Windows)
}

// DistLinux builds dist/ with the backend for linux/amd64 only: what the tests check, in a
// fraction of Build's time.
func DistLinux(ctx context.Context) error {
	return buildDist(ctx, build.Build{}.Linux)
}

// Package builds dist/ (as Build) and zips it as plugin/artifacts/<id>-<version>.zip with one top
// folder named by the plugin id, and the source the catalog reviews as <id>-<version>-source.zip,
// then checks both. The zip is unsigned.
func Package(ctx context.Context) error {
	if err := Build(ctx); err != nil {
		return err
	}
	out, err := distcheck.Zip(distDir, artifactDir)
	if err != nil {
		return err
	}
	if err := checked("zip "+out, func() ([]distcheck.Problem, error) { return distcheck.CheckZip(out, distOptions()) }); err != nil {
		return err
	}
	src := strings.TrimSuffix(out, ".zip") + "-source.zip"
	if err := sourceZip(src); err != nil {
		return err
	}
	if err := checked("source "+src, func() ([]distcheck.Problem, error) { return distcheck.CheckSource(src, distDir) }); err != nil {
		return err
	}
	fmt.Println("package:", out)
	fmt.Println("source: ", src, "(the validator's -sourceCodeUri; see docs/frontend.md)")
	return nil
}

// sourceZip archives the working tree as built: tracked files and new ones git does not ignore,
// the same .go files the SDK's manifest hashed.
func sourceZip(out string) error {
	b, err := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		return fmt.Errorf("list the source files: %w", err)
	}
	var files []string
	for _, f := range strings.Split(strings.TrimRight(string(b), "\x00"), "\x00") {
		if _, err := os.Stat(f); err == nil { // deleted but not yet committed: not in the build
			files = append(files, f)
		}
	}
	return distcheck.SourceZip(".", files, pluginDir, pluginDir+"/pkg", out)
}

func distOptions() distcheck.Options {
	return distcheck.Options{PackageJSON: filepath.Join(pluginDir, "package.json")}
}

// buildDist removes dist/, builds the frontend and the given backend targets, copies the
// frontend's output in and checks the result against the validator's offline rules.
func buildDist(ctx context.Context, backends ...func() error) error {
	mg.CtxDeps(ctx, npmInstalled)
	// a fresh dist: no stale chunks, binaries or standalone.txt/pid.txt from a debug run
	if err := os.RemoveAll(distDir); err != nil {
		return fmt.Errorf("remove %s: %w", distDir, err)
	}
	if err := step("frontend: npm run build", func() error { return npm(ctx, "run", "build") }); err != nil {
		return err
	}
	err := step(fmt.Sprintf("backend: %d platform(s)", len(backends)), func() error {
		// two at a time: each link is CPU- and memory-heavy, and the machine is shared
		g, _ := errgroup.WithContext(ctx)
		g.SetLimit(min(2, runtime.NumCPU()))
		for _, b := range backends {
			g.Go(b)
		}
		if err := g.Wait(); err != nil {
			return err
		}
		// every backend build rewrites the manifest; write it once more after all of them
		if err := (build.Build{}).GenerateManifestFile(); err != nil {
			return err
		}
		return dropNodeModules(filepath.Join(distDir, "go_plugin_build_manifest"))
	})
	if err != nil {
		return err
	}
	if err := os.CopyFS(distDir, os.DirFS(filepath.Join(pluginDir, "dist"))); err != nil {
		return fmt.Errorf("copy the frontend build into %s: %w", distDir, err)
	}
	// The validator wants the binaries 0755, whatever the umask was.
	bins, err := filepath.Glob(filepath.Join(distDir, "gpx_*"))
	if err != nil {
		return err
	}
	for _, bin := range bins {
		if err := os.Chmod(bin, 0o755); err != nil { // #nosec G302 -- plugin executables: the validator wants 0755, Grafana may run as another user
			return fmt.Errorf("chmod %s: %w", bin, err)
		}
	}
	return checked("dist "+distDir, func() ([]distcheck.Problem, error) { return distcheck.CheckDir(distDir, distOptions()) })
}

// dropNodeModules removes node_modules entries from the manifest: the SDK hashes every .go file
// under the repository, and an npm package (flatted) ships one, which is no plugin source.
func dropNodeModules(manifest string) error {
	b, err := os.ReadFile(manifest) // #nosec G304 -- the manifest the SDK's build just wrote into dist/
	if err != nil {
		return fmt.Errorf("read manifest: %w", err)
	}
	var kept []string
	for line := range strings.Lines(string(b)) {
		if !strings.Contains(line, "node_modules/") {
			kept = append(kept, line)
		}
	}
	return os.WriteFile(manifest, []byte(strings.Join(kept, "")), 0o755) // #nosec G306 -- rewrites the SDK's manifest, which exists, so its mode stays
}

// checked runs a distcheck and turns its problems into one error listing them all.
func checked(what string, check func() ([]distcheck.Problem, error)) error {
	problems, err := check()
	if err != nil {
		return err
	}
	if len(problems) == 0 {
		fmt.Println(what + ": passes the offline validator rules")
		return nil
	}
	lines := make([]string, len(problems))
	for i, p := range problems {
		lines[i] = "  " + p.String()
	}
	return fmt.Errorf("%s breaks %d validator rule(s):\n%s", what, len(problems), strings.Join(lines, "\n"))
}

// npmInstalled runs npm ci when plugin/node_modules is missing (a fresh clone). It runs as a
// mage dependency, so targets running in parallel (Frontend and DistLinux) share one install.
func npmInstalled(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(pluginDir, "node_modules")); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("look for node_modules: %w", err)
	}
	return step("frontend: npm ci (1-2 min on a fresh clone)", func() error { return npm(ctx, "ci", "--no-audit", "--no-fund") })
}

func npm(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "npm", args...) // #nosec G204 -- npm with the targets' fixed arguments
	cmd.Dir = pluginDir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm %s in %s: %w", strings.Join(args, " "), pluginDir, err)
	}
	return nil
}

// step prints what runs and how long it took, so a slow CI step can be told apart.
func step(what string, fn func() error) error {
	fmt.Println(what + " …")
	start := time.Now()
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	fmt.Printf("%s: done in %s\n", what, time.Since(start).Round(100*time.Millisecond))
	return nil
}
