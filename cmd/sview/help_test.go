package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHelpGoesToStdout asks every command and action for help the ways a user would: each
// answer is on stdout, nothing on stderr, and no error (exit 0). No database is configured,
// so a command that ran instead of printing help would fail.
func TestHelpGoesToStdout(t *testing.T) {
	t.Setenv("SVIEW_DATABASE_URL", "")
	lines := [][]string{{"help"}, {"--help"}, {"-h"}, {"-help"}, {"--log-level", "debug", "--help"}}
	var names []string
	for name := range commands() {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		lines = append(lines, []string{name, "--help"}, []string{name, "-h"}, []string{"help", name})
	}
	for _, action := range []string{"import geo", "import greylist", "import pwned", "import contacts", "demo seed", "demo live",
		"aggregate hourly", "greylist build", "greylist export", "leak build", "leak lookup",
		"cache warm", "cache ls", "cache clear", "ingest sshd x.log", "contacts ls", "contacts lookup", "contacts grafana"} {
		lines = append(lines, append(strings.Fields(action), "--help"))
	}
	for _, args := range lines {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, &stdout, &stderr)
		require.NoError(t, err, "%v", args)
		require.Contains(t, stdout.String(), "usage: sview", "%v", args)
		require.Empty(t, stderr.String(), "%v", args)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"nosuch"}, {"import", "nosuch"}, {"--nosuch-flag"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, &stdout, &stderr)
		require.Error(t, err, "%v", args)
		require.Equal(t, exitFailure, exitCode(err), "%v", args)
		require.Empty(t, stdout.String(), "%v: diagnostics belong on stderr", args)
	}
}

// TestIngestExitCodes: an ingest that loads no good line fails with exitNoData; one with some
// good lines, or content ingested before, succeeds.
func TestIngestExitCodes(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "")
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	allBad := write("bad.jsonl", "not json\n{\"ts\": \"yesterday\"}\n")
	err := c.call(cmdIngest, "minipot", allBad, "--quiet")
	require.ErrorContains(t, err, "loaded no good line of 2 read (2 bad, 0 skipped)")
	require.Equal(t, exitNoData, exitCode(err))
	require.Contains(t, c.stdout.String(), "2 bad", "the summary is printed all the same")

	err = c.call(cmdIngest, "minipot", write("empty.jsonl", ""), "--quiet")
	require.Equal(t, exitNoData, exitCode(err))

	c.run(cmdIngest, "minipot", "../../internal/ingest/testdata/minipot.jsonl", "--quiet")
	require.Contains(t, c.run(cmdIngest, "minipot", "../../internal/ingest/testdata/minipot.jsonl", "--quiet"), "already ingested")
}
