package httpclient

import (
	"context"
	"errors"
	"net"
)

// TimedOut reports whether a request that failed with err (and whose
// caller did not cancel it) ran out of time: its per-request context
// rctx ended, or the transport's own dial or TLS handshake timeout, of
// the same length, fired first. The two timers race: on a loaded machine
// the transport's may fire, and the request return, before rctx's timer
// has run and rctx.Err() says so.
func TimedOut(rctx context.Context, err error) bool {
	if rctx.Err() != nil {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
