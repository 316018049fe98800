//go:build mage

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Scale runs the scale-out tests of docs/scale.md (internal/scaletest): a PostgreSQL streaming
// replica, a three-master Redis Cluster and three aggregators on one database, each started
// on loopback by the tests, and prints their figures at the end. It needs the PostgreSQL and
// Redis of `go tool mage test` for the test databases, and the system's PostgreSQL and Redis
// binaries for the servers it starts.
func Scale(ctx context.Context) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	env, _, cleanup, err := testServers(ctx, root)
	defer cleanup()
	if err != nil {
		return err
	}
	env["SVIEW_SCALE"] = "1"
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-v", "-timeout", "20m", "./internal/scaletest/") // #nosec G204 -- go test of our own package
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	var figures []string
	sc := bufio.NewScanner(io.TeeReader(out, os.Stdout))
	for sc.Scan() {
		if f, ok := strings.CutPrefix(sc.Text(), "FIGURE "); ok {
			figures = append(figures, f)
		}
	}
	runErr := cmd.Wait()
	fmt.Printf("\nscale figures (%s, load %s):\n", time.Since(start).Round(time.Second), loadAverage())
	for _, f := range figures {
		fmt.Println("  " + f)
	}
	return runErr
}

// loadAverage is the machine's 1-minute load when the run ends, which the figures depend on.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}
