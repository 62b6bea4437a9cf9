package probesource

import (
	"fmt"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// startCommand starts cmd. With noNewPrivs it starts it from an OS thread
// of its own that has PR_SET_NO_NEW_PRIVS set, which the child inherits
// (the attribute belongs to the thread and passes through fork and
// execve). The goroutine never unlocks the thread, so the Go runtime
// ends the thread with it and no other goroutine ever runs with the
// attribute. syscall.SysProcAttr has no such field, hence the thread.
func startCommand(cmd *exec.Cmd, noNewPrivs bool) error {
	if !noNewPrivs {
		return cmd.Start()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			errc <- fmt.Errorf("set no_new_privs: %w", err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}
