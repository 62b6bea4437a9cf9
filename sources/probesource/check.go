package probesource

import (
	"context"
	"errors"
	"net"
	"net/url"
	"time"
)

// checker runs one kind of check. A probe runs at most one check at a
// time, so a checker may keep state between its checks.
type checker interface {
	// check runs one check, bounded by the probe's timeout; now is the
	// check's scheduled time. It never panics and never blocks past the
	// timeout (plus a bounded cleanup).
	check(ctx context.Context, now time.Time) outcome
	// target describes what is probed, safe to log (no passwords).
	target() string
}

// rollbacker is a checker with state that must follow the journal: when
// the batch of its last check is refused, rollback undoes what that check
// changed, so the next check repeats it (a hostplugin probe reads
// /versions again, and its event is not lost).
type rollbacker interface {
	rollback()
}

// outcome is the result of one check.
type outcome struct {
	healthy bool
	// err says why the check failed; empty when healthy.
	err string
	// statusCode is the HTTP status of http and hostplugin checks.
	statusCode int
	// exitCode is an exec check's exit status, -1 if it did not exit
	// (killed, not started); valid when exited is true.
	exitCode int
	exited   bool
	// output is what an exec check printed, or what a tcp peer sent, up
	// to the configured bound; truncated tells that there was more.
	output    string
	truncated bool
	// upstreamFailure marks a hostplugin 502: the plugin says its
	// upstream failed, not itself.
	upstreamFailure bool
	// extra holds further events of the check (hostplugin versions).
	extra []extraEvent
}

// extraEvent is an event a checker adds to its check's batch.
type extraEvent struct {
	typ     string
	healthy bool
	data    any
}

// describeErr turns a check error into a short message: "timed out after
// 1s" for the check's own deadline, the cause without the URL otherwise
// (a URL may hold a password).
func describeErr(ctx context.Context, err error, timeout time.Duration) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "timed out after " + timeout.String()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out after " + timeout.String()
	}
	return err.Error()
}
