package hostpluginsink

import "errors"

var (
	// ErrNotStarted is returned (wrapped) by Deliver before Start or after
	// Close.
	ErrNotStarted = errors.New("hostplugin sink not started")

	// ErrTimeout is returned (wrapped in a NetworkError) when a POST got
	// no complete answer within the configured timeout. It is transient.
	ErrTimeout = errors.New("request timed out")

	// ErrUnmapped is returned (wrapped, permanent) for an event that no
	// observation rule maps, or whose health a rule cannot read; the
	// event is dead-lettered with the reason.
	ErrUnmapped = errors.New("event maps to no observation")
)
