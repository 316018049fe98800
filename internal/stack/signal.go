//go:build linux

package stack

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// StopContext returns a context that ends on SIGINT, SIGTERM or SIGHUP, and when the parent
// process dies. `go tool mage up` runs the magefile under mage's driver, which dies of SIGTERM
// without passing it on: the kernel then sends us SIGTERM (PR_SET_PDEATHSIG). cancel releases
// the signal handlers.
func StopContext(parent context.Context) (ctx context.Context, cancel context.CancelFunc) {
	ctx, cancel = signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	ppid := os.Getppid()
	armed := make(chan struct{})
	go func() {
		// The parent-death signal belongs to the thread that asked for it: keep that thread
		// for as long as the context lives.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		_, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0)
		close(armed)
		if errno != 0 {
			return
		}
		<-ctx.Done()
	}()
	<-armed
	if os.Getppid() != ppid {
		cancel() // the parent died before the signal was armed
	}
	return ctx, cancel
}
