//go:build mage

// Build, test, benchmark and run sview. Run `go tool mage -l` for the targets.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/magefile/mage/mg"

	// mage:import sdk
	build "github.com/grafana/grafana-plugin-sdk-go/build"

	"github.com/sview-project/sview/internal/devserver"
)

const module = "github.com/sview-project/sview"

func init() {
	// The SDK build targets assume ./pkg and ./src; our plugin lives under plugin/.
	_ = build.SetBeforeBuildCallback(func(cfg build.Config) (build.Config, error) {
		cfg.RootPackagePath = "./plugin/pkg"
		cfg.PluginJSONPath = "plugin/src"
		cfg.OutputBinaryPath = "dist"
		return cfg, nil
	})
}

// testServers makes sure the servers the tests need are there: a plain PostgreSQL and a Redis
// (SVIEW_TEST_DATABASE_URL / SVIEW_TEST_REDIS_URL, else the standard local ports, else throwaway
// ones from the system binaries) and a TimescaleDB (SVIEW_TEST_TIMESCALE_URL, else a throwaway
// cluster from ../shared/timescaledb/pgroot.sh). It returns the environment of the plain pass,
// the TimescaleDB URL, and a function that stops whatever it started.
func testServers(ctx context.Context, root string) (env map[string]string, timescaleURL string, cleanup func(), err error) {
	env = map[string]string{}
	var started []*devserver.Server
	tmp, err := os.MkdirTemp("", "sview-test-servers-")
	if err != nil {
		return nil, "", func() {}, err
	}
	cleanup = func() {
		for _, s := range started {
			if err := s.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "stop test server:", err)
			}
		}
		_ = os.RemoveAll(tmp)
	}
	throwaway := func(what string, start func(dir string, port int) (*devserver.Server, error)) (string, error) {
		port, err := devserver.FreePort()
		if err != nil {
			return "", err
		}
		fmt.Printf("starting a throwaway %s on port %d\n", what, port)
		s, err := start(filepath.Join(tmp, strings.ToLower(what)), port)
		if err != nil {
			return "", fmt.Errorf("start %s: %w", what, err)
		}
		started = append(started, s)
		return s.URL, nil
	}

	if os.Getenv("SVIEW_TEST_DATABASE_URL") == "" && !devserver.Answers("127.0.0.1:5432") {
		fmt.Println("no PostgreSQL on 127.0.0.1:5432")
		if env["SVIEW_TEST_DATABASE_URL"], err = throwaway("PostgreSQL", func(dir string, port int) (*devserver.Server, error) {
			return devserver.Postgres(ctx, dir, port)
		}); err != nil {
			return nil, "", cleanup, err
		}
	}
	if os.Getenv("SVIEW_TEST_REDIS_URL") == "" && !devserver.Answers("127.0.0.1:6379") {
		fmt.Println("no Redis on 127.0.0.1:6379")
		if env["SVIEW_TEST_REDIS_URL"], err = throwaway("Redis", func(dir string, port int) (*devserver.Server, error) {
			return devserver.Redis(ctx, dir, port)
		}); err != nil {
			return nil, "", cleanup, err
		}
	}
	timescaleURL = os.Getenv("SVIEW_TEST_TIMESCALE_URL")
	if timescaleURL == "" {
		pgroot, err := devserver.PGRoot(root)
		if err != nil {
			return nil, "", cleanup, err
		}
		if timescaleURL, err = throwaway("TimescaleDB", func(dir string, port int) (*devserver.Server, error) {
			return devserver.Timescale(ctx, dir, port, pgroot)
		}); err != nil {
			return nil, "", cleanup, err
		}
	}
	return env, timescaleURL, cleanup, nil
}

// Test runs every test suite, each whatever the others did, and fails if any failed: the
// frontend checks (typecheck, lint, jest), a fresh linux dist/ checked against the plugin
// validator's offline rules, every Go package against plain PostgreSQL and Redis, again every
// Go package that uses a database against TimescaleDB, staticcheck, and the gosec security scan.
func Test(ctx context.Context) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	go func() {
		// one after the other: two Go builds at once would only slow the first suites more
		_, _ = staticcheckBinary() // the suites read the results
		_, _ = gosecBinary()
	}()
	env, timescaleURL, cleanup, err := testServers(ctx, root)
	defer cleanup()
	if err != nil {
		return err
	}
	pkgs, err := goPackages()
	if err != nil {
		return err
	}
	dbPkgs, err := databasePackages()
	if err != nil {
		return err
	}
	timescaleEnv := map[string]string{"SVIEW_TEST_DATABASE_URL": timescaleURL}
	for k, v := range env {
		if k != "SVIEW_TEST_DATABASE_URL" {
			timescaleEnv[k] = v
		}
	}
	goTest := func(env map[string]string, pkgs []string) func() error {
		return func() error {
			return run(env, "go", append([]string{"test", "-count=1", "-timeout", "20m"}, pkgs...)...)
		}
	}
	suites := []struct {
		name string
		run  func() error
	}{
		{"frontend (typecheck, lint, jest)", func() error { return Frontend(ctx) }},
		{"dist (build, validator's offline rules)", func() error { return DistLinux(ctx) }},
		{fmt.Sprintf("Go, %d packages on PostgreSQL", len(pkgs)), goTest(env, pkgs)},
		{fmt.Sprintf("Go, %d database packages on TimescaleDB", len(dbPkgs)), goTest(timescaleEnv, dbPkgs)},
		{"staticcheck", func() error { return Staticcheck(ctx) }},
		{"gosec (security scan)", func() error { return Gosec(ctx) }},
	}
	var failed []error
	var summary []string
	for _, s := range suites {
		err := step(s.name, func() error { return recoverFatal(s.run) })
		verdict := "ok"
		if err != nil {
			failed = append(failed, err)
			verdict = "FAILED"
		}
		summary = append(summary, fmt.Sprintf("  %-6s %s", verdict, s.name))
	}
	fmt.Println("test suites:\n" + strings.Join(summary, "\n"))
	return errors.Join(failed...)
}

// Staticcheck runs staticcheck's default checks over every package, tests, benchmarks (tag bench)
// and these magefiles (tag mage) included, and fails on any finding. A finding that is wrong for
// one line is silenced there, with the reason: `//lint:ignore SA1019 why`. staticcheck is
// installed by goTool (mage_tools.go).
func Staticcheck(ctx context.Context) error {
	bin, err := staticcheckBinary()
	if err != nil {
		return err
	}
	pkgs, err := goPackages()
	if err != nil {
		return err
	}
	// "." is the magefiles' package, which `go list ./...` skips without the tag
	if err := run(nil, bin, append([]string{"-tags", "mage,bench", "."}, pkgs...)...); err != nil {
		return fmt.Errorf("staticcheck found problems (fix them, or justify each with //lint:ignore Check why): %w", err)
	}
	return nil
}

// recoverFatal turns the panic by which a failed mage dependency ends its caller into an error,
// so one suite's failure never keeps the next from running.
func recoverFatal(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return fn()
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

// databasePackages lists the packages whose test binaries use internal/testenv, directly or
// through a harness: the ones that meet a database.
func databasePackages() ([]string, error) {
	out, err := exec.Command("go", "list", "-test", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "./...").Output()
	if err != nil {
		return nil, fmt.Errorf("go list -test: %w", err)
	}
	var pkgs []string
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.Contains(fields[0], "/node_modules/") {
			continue
		}
		if pkg, ok := strings.CutSuffix(fields[0], ".test"); ok && slices.Contains(fields[1:], module+"/internal/testenv") {
			pkgs = append(pkgs, pkg)
		}
	}
	return pkgs, nil
}

func run(env map[string]string, name string, args ...string) error {
	if mg.Verbose() {
		fmt.Println("exec:", name, strings.Join(args, " "))
	}
	cmd := exec.Command(name, args...) // #nosec G204 G702 -- targets run the tools they name (go, npm, our binaries) as the developer who typed mage
	cmd.Stdout, cmd.Stderr, cmd.Stdin = os.Stdout, os.Stderr, os.Stdin
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd.Run()
}
