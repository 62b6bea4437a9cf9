package haproxysink

import "errors"

var (
	// ErrConfigRejected is returned (permanent) when `haproxy -c` rejects
	// the rendered configuration; the message carries HAProxy's own output.
	// The live configuration is unchanged.
	ErrConfigRejected = errors.New("haproxy rejected the configuration")
	// ErrCheckTimeout is returned (transient) when `haproxy -c` did not
	// finish within reload.timeout (a loaded machine): the file was
	// neither accepted nor rejected, and the live configuration is
	// unchanged.
	ErrCheckTimeout = errors.New("haproxy configuration check timed out")
	// ErrReloadFailed is returned (permanent) when HAProxy's master could not
	// start workers with a configuration that passed the check (a port in
	// use, say); the previous configuration was restored and reloaded.
	// When the master did not confirm the reload within reload.timeout it
	// is transient (the outcome is unknown; the previous configuration
	// was restored).
	ErrReloadFailed = errors.New("haproxy reload failed")
	// ErrNotRunning is returned (transient) when HAProxy's master socket
	// does not answer; nothing was changed.
	ErrNotRunning = errNotRunning
)
