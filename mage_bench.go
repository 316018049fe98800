//go:build mage

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Bench runs every benchmark (files tagged `bench`) against real PostgreSQL, TimescaleDB and Redis and writes
// BENCHMARKS.md. SVIEW_BENCH_SCALE (default 1, the sizes the issues ask for) scales the data.
func Bench(ctx context.Context) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	env, timescaleURL, cleanup, err := testServers(ctx, root)
	defer cleanup()
	if err != nil {
		return err
	}
	// The benchmarks that set sview beside TimescaleDB's own continuous aggregates run there.
	env["SVIEW_TEST_TIMESCALE_URL"] = timescaleURL
	pkgs, err := benchPackages()
	if err != nil {
		return err
	}
	scale := os.Getenv("SVIEW_BENCH_SCALE")
	if scale == "" {
		scale = "1"
	}
	env["SVIEW_BENCH_SCALE"] = scale
	var out bytes.Buffer
	args := append([]string{"test", "-tags", "bench", "-run", "^$", "-bench", ".", "-benchtime", "1x", "-timeout", "120m"}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...) // #nosec G204 -- go test over the packages go list found
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout = io.MultiWriter(os.Stdout, &out)
	cmd.Stderr = io.MultiWriter(os.Stderr, &out)
	runErr := cmd.Run()
	// #nosec G306 -- a tracked document of the repository, readable like the rest of it
	if err := os.WriteFile("BENCHMARKS.md", []byte(keptSummary()+benchReport(scale, out.String())), 0o644); err != nil {
		return err
	}
	fmt.Println("wrote BENCHMARKS.md")
	return runErr
}

// benchPackages lists the packages that hold benchmark files.
func benchPackages() ([]string, error) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{.Dir}}", "./...").Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	var pkgs []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, dir, _ := strings.Cut(line, " ")
		if strings.Contains(pkg, "/node_modules/") {
			continue
		}
		if matches, _ := filepath.Glob(filepath.Join(dir, "*_bench_test.go")); len(matches) > 0 {
			pkgs = append(pkgs, pkg)
		}
	}
	return pkgs, nil
}

// generatedMarker separates the hand-written summary of BENCHMARKS.md (targets, full-scale runs,
// what the figures mean), which a new run keeps, from the figures the run writes below it.
const generatedMarker = "<!-- everything below is written by go tool mage bench -->\n"

func keptSummary() string {
	b, err := os.ReadFile("BENCHMARKS.md")
	if err != nil {
		return generatedMarker
	}
	if summary, _, ok := strings.Cut(string(b), generatedMarker); ok {
		return summary + generatedMarker
	}
	return generatedMarker
}

func benchReport(scale, output string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Last run\n\nWritten by `go tool mage bench` on %s. Data scale %s "+
		"(SVIEW_BENCH_SCALE; 1 = the sizes the issues ask for). Every ratio compares against a baseline "+
		"measured in the same run.\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), scale)
	fmt.Fprintf(&b, "### Machine\n\n| | |\n|---|---|\n| CPU | %s |\n| cores | %d |\n| memory | %s |\n| Go | %s |\n| PostgreSQL | %s |\n\n",
		cpuModel(), runtime.NumCPU(), memTotal(), runtime.Version(), commandLine("psql", "--version"))
	b.WriteString("### Results\n\nEach line: benchmark, iterations, then the metrics it reports; indented lines are what it logged (data sizes, notes).\n\n")
	var pkg string
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	open := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "pkg: "):
			if open {
				b.WriteString("```\n\n")
			}
			pkg = strings.TrimPrefix(line, "pkg: ")
			fmt.Fprintf(&b, "#### %s\n\n```\n", strings.TrimPrefix(pkg, "github.com/sview-project/sview/"))
			open = true
		case strings.HasPrefix(line, "Benchmark"), strings.HasPrefix(line, "    "), strings.HasPrefix(line, "--- FAIL"), strings.HasPrefix(line, "FAIL"):
			if open {
				b.WriteString(line + "\n")
			}
		}
	}
	if open {
		b.WriteString("```\n")
	}
	return b.String()
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if _, v, ok := strings.Cut(l, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "MemTotal:") {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, "MemTotal:")), "%d", &kb); err != nil {
				return "unknown"
			}
			return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	return "unknown"
}

func commandLine(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output() // #nosec G204 -- callers pass a fixed command (psql --version)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
