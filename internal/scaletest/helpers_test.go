package scaletest

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// enabled skips the long scale tests unless `go tool mage scale` (or the developer) set
// SVIEW_SCALE.
func enabled(t *testing.T) {
	t.Helper()
	if os.Getenv("SVIEW_SCALE") == "" {
		t.Skip("scale test: run it with `go tool mage scale` (or set SVIEW_SCALE=1)")
	}
}

// figure prints one measured figure where the mage target finds it.
func figure(t *testing.T, name, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf("FIGURE %s | %s: %s", t.Name(), name, fmt.Sprintf(format, args...))
	fmt.Println(line)
	t.Log(line)
}

// TestMain removes the sview binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		_ = os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// sviewBinary builds the sview CLI once per test process.
func sviewBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sview-scale-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "sview")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", binary, "./cmd/sview") // #nosec G204 -- the module's own CLI
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build sview: %w\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binary
}

// process is a child process this test started; Kill and Stop act on its PID alone.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// start runs name with args and env in its own process group, its output in a log file.
func start(t *testing.T, logPath string, env []string, name string, args ...string) *process {
	t.Helper()
	f, err := os.Create(logPath) // #nosec G304 -- a file in the test's temporary directory
	require.NoError(t, err)
	cmd := exec.Command(name, args...) // #nosec G204 -- binaries this test built or the system's servers
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	p := &process{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		_ = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.Stop() })
	return p
}

// Kill ends the process at once (SIGKILL), as a crash would.
func (p *process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Stop asks the process to end (SIGTERM) and kills it after 10 s.
func (p *process) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.Kill()
	}
}

func (p *process) PID() int { return p.cmd.Process.Pid }

// Tail is the end of the process's log, for failure messages.
func (p *process) Tail() string {
	b, _ := os.ReadFile(p.log)
	s := string(b)
	if len(s) > 3000 {
		s = s[len(s)-3000:]
	}
	return s
}

// metric reads one unlabelled sample (or the sum over its labels) from a Prometheus text page.
func metric(t *testing.T, url, name string) float64 {
	t.Helper()
	resp, err := http.Get(url) // #nosec G107 -- a loopback server this test started
	require.NoError(t, err)
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		require.NoError(t, err, line)
		sum += v
	}
	require.NoError(t, sc.Err())
	return sum
}

// waitHTTP waits until url answers 200.
func waitHTTP(t *testing.T, url string, p *process) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil { // #nosec G107 -- a loopback server this test started
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer:\n%s", url, p.Tail())
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func mkdir(dir string) error { return os.MkdirAll(dir, 0o750) }
