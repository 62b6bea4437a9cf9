package main

import (
	"errors"
	"fmt"
)

// Exit codes of the sluice command. They are part of its interface
// (README.md lists them); do not renumber.
const (
	exitOK            = 0 // success
	exitFailure       = 1 // a runtime error: the engine failed, a sink could not start, I/O
	exitUsage         = 2 // bad command line: unknown command or flag, missing argument
	exitInvalidConfig = 3 // the configuration file is invalid (errors printed as FILE:LINE:COL)
	exitJournalInUse  = 4 // the journal is held by another process that could not be reached
	exitJournalDamage = 5 // the journal failed an integrity check
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExit attaches an exit code to err (nil stays nil).
func withExit(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// usageErrorf returns a usage error (exit 2).
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// exitCode maps an error returned by a command to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return exitFailure
}
