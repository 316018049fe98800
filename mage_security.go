//go:build mage

package main

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// gosecVersion is the gosec the Gosec target installs (go-partial.tsv lists the versions the
// Go proxy serves).
const gosecVersion = "v2.30.0"

// Gosec runs the gosec security scanner over every package, these magefiles included (tag
// mage), and fails on any finding that is neither fixed nor justified in a
// `// #nosec Gxxx -- why` comment. Test files are not scanned (gosec's default): they run
// fixed fixtures against throw-away servers. No rule is excluded. The binary is installed into
// SVIEW_TOOLS (default the user's cache directory, sview-tools) from the Go module proxy when it is
// missing or another version, then runs offline.
func Gosec(ctx context.Context) error {
	bin, err := gosecBinary()
	if err != nil {
		return err
	}
	// -exclude-generated: the SDK's generated protobuf code is not ours.
	if err := run(nil, bin, "-quiet", "-tags", "mage", "-exclude-generated", "-fmt", "text", "./..."); err != nil {
		return fmt.Errorf("gosec found problems (fix them, or justify each with // #nosec Gxxx -- why): %w", err)
	}
	return nil
}

// gosecBinary installs gosec once per mage run; Test starts it early, so that on a fresh
// machine the download and build overlap the suites before the scan.
var gosecBinary = sync.OnceValues(func() (string, error) {
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
	bin := filepath.Join(tools, "gosec")
	if info, err := buildinfo.ReadFile(bin); err == nil && info.Main.Version == gosecVersion {
		return bin, nil
	}
	install := exec.Command("go", "install", "github.com/securego/gosec/v2/cmd/gosec@"+gosecVersion)
	install.Env = append(os.Environ(), "GOBIN="+tools)
	if out, err := install.CombinedOutput(); err != nil {
		return "", fmt.Errorf("install gosec %s into %s: %w\n%s", gosecVersion, tools, err, out)
	}
	return bin, nil
})
