package filesink

import "errors"

// ErrNotOpen is returned by Deliver before Start or after Close.
var ErrNotOpen = errors.New("file sink not open")
