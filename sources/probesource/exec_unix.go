//go:build unix

package probesource

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts the command in a process group of its own, and
// makes a timeout kill the whole group (SIGKILL to -pgid), so a shell
// script's children die with it. With id set, the command runs as that
// user and group, without supplementary groups.
func setProcessGroup(cmd *exec.Cmd, id identity) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if id.set {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: id.uid, Gid: id.gid, Groups: []uint32{}}
	}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

// killProcessGroup kills what is left of the command's process group.
func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
