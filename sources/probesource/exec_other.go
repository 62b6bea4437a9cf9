//go:build !unix

package probesource

import "os/exec"

// setProcessGroup is a no-op where there are no process groups: a timeout
// kills only the command itself, which runs as Sluice.
func setProcessGroup(*exec.Cmd, identity) {}

func killProcessGroup(*exec.Cmd) {}
