package stdoutsink

import "errors"

// ErrNotOpen is returned by Deliver before Start or after Close.
var ErrNotOpen = errors.New("stdout sink not open")
