package vessink

import "errors"

var (
	// ErrNotStarted is returned by Deliver before Start or after Close.
	ErrNotStarted = errors.New("ves sink not started")

	// ErrTimeout is returned (wrapped) when the collector gives no complete
	// answer within the configured timeout. It is transient.
	ErrTimeout = errors.New("ves collector timeout")

	// ErrUnmappable is returned (wrapped in pipeline.Permanent) for an
	// event the configured mapping cannot turn into a valid VES event, for
	// example a state name with no VES equivalent. No request is made.
	ErrUnmappable = errors.New("cannot map event to VES")
)
