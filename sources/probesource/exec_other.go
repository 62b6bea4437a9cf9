//go:build !unix

package probesource

import "os/exec"

// setProcessGroup is a no-op where there are no process groups: a timeout
// kills only the command itself.
func setProcessGroup(*exec.Cmd) {}

func killProcessGroup(*exec.Cmd) {}
