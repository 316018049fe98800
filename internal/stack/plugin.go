//go:build linux

package stack

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sview-project/sview/internal/pluginharness"
)

// Plugin is the plugin backend run the way Grafana runs it: under a go-plugin host
// (pluginharness), not in the SDK's standalone mode, whose start and exit `pgrep -f` the binary's
// name and kill -9 every match, other people's processes included.
type Plugin struct {
	*pluginharness.Plugin
	pid     int
	pidFile string
}

// StartPlugin starts binary in its own process group, with its log in log and its pid in
// runDir/plugin.pid.
func StartPlugin(runDir, binary string, log io.Writer) (*Plugin, error) {
	cmd := pluginharness.Command(binary)
	cmd.Dir = filepath.Dir(binary)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	p, err := pluginharness.StartCommand(cmd, log)
	if err != nil {
		return nil, err
	}
	pl := &Plugin{Plugin: p, pid: cmd.Process.Pid, pidFile: filepath.Join(runDir, "plugin.pid")}
	if err := WritePidFile(pl.pidFile, pl.pid); err != nil {
		pl.Stop(0)
		return nil, err
	}
	return pl, nil
}

// Stop closes the plugin as Grafana does (go-plugin gives it 2 s before killing it), and kills
// its process group should that take longer than grace.
func (p *Plugin) Stop(grace time.Duration) {
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(grace):
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		<-closed
	}
	_ = os.Remove(p.pidFile)
}
