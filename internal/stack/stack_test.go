//go:build linux

package stack

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/pluginharness"
)

// readPid waits for a shell to write a pid into file.
func readPid(t *testing.T, file string) int {
	t.Helper()
	var pid int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(file)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	}, 5*time.Second, 20*time.Millisecond)
	return pid
}

// TestStopAll: the children of a part and a part that ignores SIGTERM are gone after StopAll,
// which stops them in parallel, so the whole takes about one grace period.
func TestStopAll(t *testing.T) {
	run := t.TempDir()
	child := filepath.Join(run, "child")
	withChild, err := Start(run, "with-child", exec.Command("sh", "-c", "sleep 300 & echo $! > "+child+"; wait"))
	require.NoError(t, err)
	stubborn, err := Start(run, "stubborn", exec.Command("sh", "-c", `trap "" TERM; sleep 300 & wait`))
	require.NoError(t, err)
	childPid := readPid(t, child)
	require.FileExists(t, filepath.Join(run, "with-child.pid"))

	start := time.Now()
	StopAll([]Stopper{withChild, stubborn}, 500*time.Millisecond)
	require.Less(t, time.Since(start), 2*time.Second)
	// The signalled child exits a moment after StopAll returns: its parent has been reaped,
	// not the child itself, whose end the kernel finishes on its own time.
	require.Eventually(t, func() bool { return !alive(childPid) }, 2*time.Second, 10*time.Millisecond,
		"a child of a part is stopped with it")
	require.False(t, alive(stubborn.cmd.Process.Pid))
	require.NoFileExists(t, filepath.Join(run, "with-child.pid"))
	require.NoFileExists(t, filepath.Join(run, "stubborn.pid"))
}

// TestCleanStale plays a crash: pid files left behind. Only processes that started just before
// their pid file was written are stopped.
func TestCleanStale(t *testing.T) {
	run := t.TempDir()
	orphan := exec.Command("sleep", "300")
	orphan.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, orphan.Start())
	go func() { _ = orphan.Wait() }()
	require.NoError(t, WritePidFile(filepath.Join(run, "orphan.pid"), orphan.Process.Pid))

	// A pid file far younger than its process: the pid was reused by someone else's process.
	stranger := exec.Command("sleep", "300")
	require.NoError(t, stranger.Start())
	t.Cleanup(func() { _ = stranger.Process.Kill(); _ = stranger.Wait() })
	reused := filepath.Join(run, "reused.pid")
	require.NoError(t, WritePidFile(reused, stranger.Process.Pid))
	later := time.Now().Add(5 * time.Minute)
	require.NoError(t, os.Chtimes(reused, later, later))

	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	require.NoError(t, WritePidFile(filepath.Join(run, "dead.pid"), dead.Process.Pid))

	files, err := PidFiles(run)
	require.NoError(t, err)
	require.Len(t, files, 3)
	files = append(files, PidFile{Path: filepath.Join(run, "never-written.pid"), Signal: syscall.SIGTERM})
	notes, err := CleanStale(files, 2*time.Second)
	require.NoError(t, err)
	require.Len(t, notes, 3, "%q", notes)
	joined := strings.Join(notes, "\n")
	require.Contains(t, joined, "stopped pid "+strconv.Itoa(orphan.Process.Pid)+" left running by a previous run")
	require.Contains(t, joined, "pid "+strconv.Itoa(stranger.Process.Pid)+" is not running")
	require.Contains(t, joined, "pid "+strconv.Itoa(dead.Process.Pid)+" is not running")
	require.False(t, alive(orphan.Process.Pid))
	require.True(t, alive(stranger.Process.Pid), "a process that only shares the pid is left alone")
	entries, err := os.ReadDir(run)
	require.NoError(t, err)
	require.Empty(t, entries, "every pid file is dealt with")
}

// TestRecorded: a pid file names a running process only while that very process runs.
func TestRecorded(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "up.pid")
	pid, running, err := Recorded(file)
	require.NoError(t, err)
	require.Zero(t, pid, "no file, no process")
	require.False(t, running)

	p := exec.Command("sleep", "300")
	require.NoError(t, p.Start())
	require.NoError(t, WritePidFile(file, p.Process.Pid))
	pid, running, err = Recorded(file)
	require.NoError(t, err)
	require.Equal(t, p.Process.Pid, pid)
	require.True(t, running)

	require.NoError(t, p.Process.Kill())
	_ = p.Wait()
	pid, running, err = Recorded(file)
	require.NoError(t, err)
	require.Equal(t, p.Process.Pid, pid)
	require.False(t, running, "the process has exited")

	require.NoError(t, os.WriteFile(file, []byte("up\n"), 0o644))
	_, _, err = Recorded(file)
	require.Error(t, err)
}

// TestPluginLeavesNamesakesAlone starts an unrelated process called gpx_sview_linux_amd64 (a
// copy of sleep), then starts and stops the plugin backend the way `mage up` does: the namesake
// survives (the SDK's standalone mode kill -9s every `pgrep -f gpx_sview` match).
func TestPluginLeavesNamesakesAlone(t *testing.T) {
	dir := t.TempDir()
	sleep, err := exec.LookPath("sleep")
	require.NoError(t, err)
	b, err := os.ReadFile(sleep)
	require.NoError(t, err)
	namesake := filepath.Join(dir, "gpx_sview_linux_amd64")
	require.NoError(t, os.WriteFile(namesake, b, 0o755))
	bystander := exec.Command(namesake, "300")
	require.NoError(t, bystander.Start())
	t.Cleanup(func() { _ = bystander.Process.Kill(); _ = bystander.Wait() })

	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin, err := pluginharness.Build(ctx, root, t.TempDir())
	require.NoError(t, err)

	run := t.TempDir()
	var log strings.Builder
	p, err := StartPlugin(run, bin, &log)
	require.NoError(t, err, log.String())
	require.FileExists(t, filepath.Join(run, "plugin.pid"))
	res, err := p.CheckHealth(ctx, pluginharness.PluginContext("stack-test", []byte(`{}`), nil))
	require.NoError(t, err)
	require.NotEmpty(t, res.Message, "the plugin answers over gRPC")
	p.Stop(5 * time.Second)

	require.True(t, p.Exited())
	require.NoFileExists(t, filepath.Join(run, "plugin.pid"))
	require.True(t, alive(bystander.Process.Pid), "the unrelated gpx_sview_linux_amd64 process survives")
}
