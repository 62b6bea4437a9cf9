package httpsink

import "errors"

var (
	// ErrNotStarted is returned (wrapped) by Deliver before Start or after
	// Close.
	ErrNotStarted = errors.New("http sink not started")

	// ErrTimeout is returned (wrapped) when a request got no complete
	// answer within the configured timeout. It is transient.
	ErrTimeout = errors.New("request timed out")
)
