// Package devserver starts private PostgreSQL and Redis servers from the system binaries, for
// the test suite and the local stack on machines where none is running.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Server is one running server process started by this package.
type Server struct {
	URL  string
	stop func() error
}

// Stop shuts the server down and waits for it.
func (s *Server) Stop() error { return s.stop() }

// Answers reports whether something accepts TCP connections on addr.
func Answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// postgresBinDir finds the newest PostgreSQL installed under /usr/lib/postgresql (Debian's layout),
// or the directory of initdb on PATH.
func postgresBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) < majorOf(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no PostgreSQL server binaries found: install the Debian package postgresql")
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// asServiceUser wraps a command so that it runs as the postgres system user when we are root:
// PostgreSQL refuses to run as root.
func asServiceUser(name string, args ...string) (*exec.Cmd, error) {
	if os.Geteuid() != 0 {
		return exec.Command(name, args...), nil // #nosec G204 -- PostgreSQL's own programs, found by findBin or pgroot.sh
	}
	if _, err := user.Lookup("postgres"); err != nil {
		return nil, errors.New("running as root needs the postgres system user (Debian package postgresql)")
	}
	return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...), nil // #nosec G204 -- as above, under runuser
}

func chownToService(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	if err := ensureTraversable(dir); err != nil {
		return err
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("look up postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid) // #nosec G122 -- Lchown never follows a link, and the tree is the fresh data directory we made
	})
}

// ensureTraversable lets other users pass through every ancestor of dir (execute bit only, no
// listing), since temporary directories are created 0700 and the postgres user must reach its
// data directory inside them.
func ensureTraversable(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p := filepath.Dir(abs); p != filepath.Dir(p); p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("let the postgres user reach %s: %w", dir, err)
			}
		}
	}
	return nil
}

// Postgres starts a PostgreSQL cluster in dir (initialised on first use, kept afterwards) on
// 127.0.0.1:port with trust authentication for local connections.
func Postgres(ctx context.Context, dir string, port int) (*Server, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	return startPostgres(ctx, bin, dir, port, "")
}

// Timescale starts a PostgreSQL cluster with TimescaleDB preloaded, like Postgres, from the
// private server copy that pgroot (shared/timescaledb/pgroot.sh) makes under dir. Telemetry is
// off: the cluster is a throwaway one and reaches no network. The extension's job scheduler runs,
// as in a real deployment, so the tests meet its background workers.
func Timescale(ctx context.Context, dir string, port int, pgroot string) (*Server, error) {
	return timescale(ctx, dir, port, pgroot,
		" -c shared_preload_libraries=timescaledb -c timescaledb.telemetry_level=off")
}

// TimescaleNotPreloaded starts a cluster whose server has TimescaleDB installed but not in
// shared_preload_libraries, as an operator may have it before configuring the extension.
func TimescaleNotPreloaded(ctx context.Context, dir string, port int, pgroot string) (*Server, error) {
	return timescale(ctx, dir, port, pgroot, "")
}

func timescale(ctx context.Context, dir string, port int, pgroot, opts string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	out, err := exec.CommandContext(ctx, "bash", pgroot, filepath.Join(dir, "root")).Output() // #nosec G204 -- pgroot.sh, found by PGRoot (the developer's SVIEW_PGROOT or the repository's copy)
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil, fmt.Errorf("%s: %w\n%s", pgroot, err, exit.Stderr)
		}
		return nil, fmt.Errorf("%s: %w", pgroot, err)
	}
	return startPostgres(ctx, strings.TrimSpace(string(out)), filepath.Join(dir, "cluster"), port, opts)
}

// PGRoot finds pgroot.sh, the script that makes a PostgreSQL copy with TimescaleDB: SVIEW_PGROOT,
// else shared/timescaledb/pgroot.sh beside the repository at repoRoot.
func PGRoot(repoRoot string) (string, error) {
	p := os.Getenv("SVIEW_PGROOT")
	if p == "" {
		p = filepath.Join(repoRoot, "..", "shared", "timescaledb", "pgroot.sh")
	}
	if _, err := os.Stat(p); err != nil { // #nosec G703 -- the developer's own setting, only checked for existence
		return "", fmt.Errorf("no TimescaleDB server copy: %w (set SVIEW_PGROOT to pgroot.sh, or SVIEW_TEST_TIMESCALE_URL to a running TimescaleDB)", err)
	}
	return filepath.Abs(p)
}

func startPostgres(ctx context.Context, bin, dir string, port int, extraOpts string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	if err := chownToService(dir); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		cmd, err := asServiceUser(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
			"--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8")
		if err != nil {
			return nil, err
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb %s: %w\n%s", data, err, out)
		}
	}
	logFile := filepath.Join(dir, "postgres.log")
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off "+
		"-c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB", port, dir) + extraOpts
	cmd, err := asServiceUser(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", logFile, "-o", opts, "-w", "-t", "60", "start")
	if err != nil {
		return nil, err
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(logFile) // #nosec G304 -- the log pg_ctl just wrote into our directory
		return nil, fmt.Errorf("start postgres on port %d: %w\n%s\n%s", port, err, out, tail(string(log), 2000))
	}
	stop := func() error {
		cmd, err := asServiceUser(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop")
		if err != nil {
			return err
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("stop postgres: %w\n%s", err, out)
		}
		return nil
	}
	if err := waitFor(ctx, fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		_ = stop()
		return nil, err
	}
	return &Server{URL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), stop: stop}, nil
}

// Redis starts a redis-server on 127.0.0.1:port that keeps nothing on disk.
func Redis(ctx context.Context, dir string, port int) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("no redis-server binary found: install the Debian package redis-server")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	// #nosec G204 -- redis-server from PATH, with arguments we build
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "",
		"--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stop := func() error {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		return nil
	}
	if err := waitFor(ctx, fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		_ = stop()
		return nil, err
	}
	return &Server{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), stop: stop}, nil
}

func waitFor(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for !Answers(addr) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not start listening: %w", addr, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
