// Package e2e holds black-box tests of the sluice binary: they build it,
// run it on real configurations with real listeners on loopback, and check
// what it does from the outside (HTTP answers, files, exit codes, the
// journal after a SIGKILL).
package e2e
