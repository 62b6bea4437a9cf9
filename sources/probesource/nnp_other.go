//go:build !linux

package probesource

import "os/exec"

// startCommand starts cmd; no_new_privs exists on Linux only.
func startCommand(cmd *exec.Cmd, _ bool) error { return cmd.Start() }
