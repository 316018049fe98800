//go:build linux

// Package stack supervises the processes of the local stack (`go tool mage up`): each runs in
// its own process group with a pid file, all stop together in parallel, and a start after a crash
// stops what the crashed run left behind, found through the pid files it wrote (never by name).
package stack

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is one started process and the process group it leads.
type Proc struct {
	Name    string
	cmd     *exec.Cmd
	pidFile string
	done    chan struct{}
}

// Start starts cmd as the leader of a new process group, so that stopping it reaches its own
// children too, and records its pid in runDir/<name>.pid. The child gets SIGTERM should this
// process die without stopping it.
func Start(runDir, name string, cmd *exec.Cmd) (*Proc, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, pidFile: filepath.Join(runDir, name+".pid"), done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	if err := WritePidFile(p.pidFile, cmd.Process.Pid); err != nil {
		p.Stop(0)
		return nil, err
	}
	return p, nil
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Stop sends SIGTERM to the process group, SIGKILL to what is left after grace, and waits.
func (p *Proc) Stop(grace time.Duration) {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
	}
	// the leader may be gone while members of its group are not
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
	_ = os.Remove(p.pidFile)
}

// Stopper is a started part of the stack: a Proc or the Plugin.
type Stopper interface{ Stop(grace time.Duration) }

// StopAll stops every part at once: a slow one does not hold up the others.
func StopAll(procs []Stopper, grace time.Duration) {
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { p.Stop(grace) })
	}
	wg.Wait()
}

// WritePidFile records pid in file.
func WritePidFile(file string, pid int) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
		return err
	}
	return os.WriteFile(file, []byte(strconv.Itoa(pid)+"\n"), 0o600) // only mage up reads it
}

// PidFile names a pid file a previous run may have left, and how to stop its process.
type PidFile struct {
	Path   string
	Signal syscall.Signal // SIGTERM for most; PostgreSQL's fast shutdown is SIGINT
	Group  bool           // signal the process group it leads (Start's), not the process alone
}

// PidFiles lists the pid files Start wrote in runDir, each for a process group stopped by SIGTERM.
func PidFiles(runDir string) ([]PidFile, error) {
	paths, err := filepath.Glob(filepath.Join(runDir, "*.pid"))
	files := make([]PidFile, len(paths))
	for i, p := range paths {
		files[i] = PidFile{Path: p, Signal: syscall.SIGTERM, Group: true}
	}
	return files, err
}

// CleanStale stops the processes named by pid files a crashed run left and removes the files.
// A pid counts only if its process started before its pid file was written, and at most a
// minute before (a pid reused by an unrelated process since is left alone). It returns one line
// per file it acted on, for the operator.
func CleanStale(files []PidFile, grace time.Duration) ([]string, error) {
	var (
		mu    sync.Mutex
		notes []string
		errs  []error
		wg    sync.WaitGroup
	)
	for _, f := range files {
		wg.Go(func() {
			note, err := cleanOne(f, grace)
			mu.Lock()
			defer mu.Unlock()
			if note != "" {
				notes = append(notes, note)
			}
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return notes, errors.Join(errs...)
}

// Recorded reads a pid file and reports whether its process still runs: a process with that pid
// that started before the file was written and at most a minute before (a pid reused by an
// unrelated process since does not count). A missing file is pid 0; an unreadable one an error.
func Recorded(file string) (pid int, running bool, err error) {
	info, err := os.Stat(file)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	b, err := os.ReadFile(file) // #nosec G304 -- a pid file of mage up's own state directory
	if err != nil {
		return 0, false, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err = strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0, false, fmt.Errorf("unreadable pid file %s", file)
	}
	started, err := procStart(pid)
	// two seconds of slack: the boot time in /proc/stat is whole seconds
	running = err == nil && !started.After(info.ModTime().Add(2*time.Second)) && info.ModTime().Sub(started) <= time.Minute
	return pid, running, nil
}

func cleanOne(f PidFile, grace time.Duration) (string, error) {
	pid, running, err := Recorded(f.Path)
	switch {
	case err != nil:
		return fmt.Sprintf("removed unreadable pid file %s", f.Path), os.Remove(f.Path)
	case pid == 0:
		return "", nil
	case !running:
		return fmt.Sprintf("removed stale pid file %s (pid %d is not running)", f.Path, pid), os.Remove(f.Path)
	}
	target := pid
	if f.Group {
		target = -pid
	}
	_ = syscall.Kill(target, f.Signal)
	deadline := time.Now().Add(grace)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	how := "stopped"
	if alive(pid) {
		_ = syscall.Kill(target, syscall.SIGKILL)
		how = "killed"
		for alive(pid) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := os.Remove(f.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	return fmt.Sprintf("%s pid %d left running by a previous run (%s)", how, pid, f.Path), nil
}

// alive reports whether pid exists and is not a zombie waiting for its parent.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := statFields(string(b))
	return len(fields) > 0 && fields[0] != "Z"
}

// procStart reads when pid started from /proc/<pid>/stat.
func procStart(pid int) (time.Time, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return time.Time{}, err
	}
	fields := statFields(string(b))
	// fields from "state" on: state(0) ppid(1) pgrp(2) … starttime(19), in clock ticks since boot
	if len(fields) < 20 || fields[0] == "Z" {
		return time.Time{}, fmt.Errorf("pid %d: not running", pid)
	}
	ticks, err := strconv.ParseInt(fields[19], 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("pid %d: start time: %w", pid, err)
	}
	boot, err := bootTime()
	if err != nil {
		return time.Time{}, err
	}
	const clockTicks = 100 // USER_HZ, 100 on every Linux architecture Go supports
	return boot.Add(time.Duration(ticks) * time.Second / clockTicks), nil
}

// statFields splits /proc/<pid>/stat after the command name, which may hold spaces and parentheses.
func statFields(stat string) []string {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(stat[i+1:])
}

func bootTime() (time.Time, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("boot time: %w", err)
			}
			return time.Unix(s, 0), nil
		}
	}
	return time.Time{}, errors.New("no btime in /proc/stat")
}
