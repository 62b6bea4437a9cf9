package httpsource

import "errors"

// ErrNotListening is returned by Source.Addr when Run has ended (or was
// never going to bind, because its context was already cancelled) before
// the listener was bound.
var ErrNotListening = errors.New("http source not listening")
