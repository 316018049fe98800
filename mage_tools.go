//go:build mage

package main

import (
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
)

// The analysers the test suites run, installed from the Go module proxy (go-partial.tsv lists
// the versions it serves) rather than required in go.mod, where their dependencies would pin ours.
const (
	gosecVersion       = "v2.30.0"
	staticcheckVersion = "v0.8.2" // staticcheck 2026.2.2, built for Go 1.26
)

// Each analyser is installed at most once per mage run. Test starts both early, so that on a fresh
// machine their downloads and builds overlap the suites before the scans.
var (
	gosecBinary = sync.OnceValues(func() (string, error) {
		return goTool("github.com/securego/gosec/v2/cmd/gosec", gosecVersion)
	})
	staticcheckBinary = sync.OnceValues(func() (string, error) {
		return goTool("honnef.co/go/tools/cmd/staticcheck", staticcheckVersion)
	})
)

// goTool returns the command pkg at version, installed into SVIEW_TOOLS (default the user's cache
// directory, sview-tools) when it is missing or another version (as its build info says), so a
// later run needs no network.
func goTool(pkg, version string) (string, error) {
	tools := os.Getenv("SVIEW_TOOLS")
	if tools == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		tools = filepath.Join(cache, "sview-tools")
	}
	tools, err := filepath.Abs(tools)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(tools, path.Base(pkg))
	if info, err := buildinfo.ReadFile(bin); err == nil && info.Main.Version == version {
		return bin, nil
	}
	install := exec.Command("go", "install", pkg+"@"+version) // #nosec G204 -- the pinned analysers above, as the developer who typed mage
	install.Env = append(os.Environ(), "GOBIN="+tools)
	if out, err := install.CombinedOutput(); err != nil {
		return "", fmt.Errorf("install %s %s into %s: %w\n%s", path.Base(pkg), version, tools, err, out)
	}
	return bin, nil
}
