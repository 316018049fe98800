//go:build mage

// Build, test, benchmark and run sview. Run `go tool mage -l` for the targets.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/magefile/mage/mg"

	// mage:import sdk
	build "github.com/grafana/grafana-plugin-sdk-go/build"

	"github.com/sview-project/sview/internal/devserver"
)

func init() {
	// The SDK build targets assume ./pkg and ./src; our plugin lives under plugin/.
	_ = build.SetBeforeBuildCallback(func(cfg build.Config) (build.Config, error) {
		cfg.RootPackagePath = "./plugin/pkg"
		cfg.PluginJSONPath = "plugin/src"
		cfg.OutputBinaryPath = "dist"
		return cfg, nil
	})
}

// testServers makes sure a PostgreSQL and a Redis server are there for the tests: the ones named
// by SVIEW_TEST_DATABASE_URL / SVIEW_TEST_REDIS_URL, else the ones on the standard local ports,
// else throwaway ones started from the system binaries. It returns the environment for the tests
// and a function that stops whatever it started.
func testServers(ctx context.Context) (map[string]string, func(), error) {
	env := map[string]string{}
	var started []*devserver.Server
	stopAll := func() {
		for _, s := range started {
			if err := s.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "stop test server:", err)
			}
		}
	}
	tmp, err := os.MkdirTemp("", "sview-test-servers-")
	if err != nil {
		return nil, stopAll, err
	}
	cleanup := func() { stopAll(); _ = os.RemoveAll(tmp) }

	if os.Getenv("SVIEW_TEST_DATABASE_URL") == "" && !devserver.Answers("127.0.0.1:5432") {
		port, err := devserver.FreePort()
		if err != nil {
			return nil, cleanup, err
		}
		fmt.Printf("no PostgreSQL on 127.0.0.1:5432: starting a throwaway one on port %d\n", port)
		s, err := devserver.Postgres(ctx, filepath.Join(tmp, "pg"), port)
		if err != nil {
			return nil, cleanup, err
		}
		started = append(started, s)
		env["SVIEW_TEST_DATABASE_URL"] = s.URL
	}
	if os.Getenv("SVIEW_TEST_REDIS_URL") == "" && !devserver.Answers("127.0.0.1:6379") {
		port, err := devserver.FreePort()
		if err != nil {
			return nil, cleanup, err
		}
		fmt.Printf("no Redis on 127.0.0.1:6379: starting a throwaway one on port %d\n", port)
		s, err := devserver.Redis(ctx, filepath.Join(tmp, "redis"), port)
		if err != nil {
			return nil, cleanup, err
		}
		started = append(started, s)
		env["SVIEW_TEST_REDIS_URL"] = s.URL
	}
	return env, cleanup, nil
}

// Test runs every test: the frontend checks (typecheck, lint, jest), a fresh linux dist/ checked
// against the plugin validator's offline rules, and every Go package against real PostgreSQL and
// Redis.
func Test(ctx context.Context) error {
	mg.SerialCtxDeps(ctx, Frontend, DistLinux)
	env, cleanup, err := testServers(ctx)
	defer cleanup()
	if err != nil {
		return err
	}
	pkgs, err := goPackages()
	if err != nil {
		return err
	}
	args := append([]string{"test", "-count=1", "-timeout", "20m"}, pkgs...)
	return run(env, "go", args...)
}

// goPackages lists the module's packages, leaving out anything under node_modules (the Go tool
// does not skip it).
func goPackages() ([]string, error) {
	out, err := exec.Command("go", "list", "./...").Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	var pkgs []string
	for _, p := range strings.Fields(string(out)) {
		if !strings.Contains(p, "/node_modules/") {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs, nil
}

func run(env map[string]string, name string, args ...string) error {
	if mg.Verbose() {
		fmt.Println("exec:", name, strings.Join(args, " "))
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr, cmd.Stdin = os.Stdout, os.Stderr, os.Stdin
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd.Run()
}
