package httpclient

import (
	"errors"
	"net/url"
)

// UnwrapURLError returns the cause of a *url.Error in err's chain, and
// err itself when there is none. A url.Error repeats the URL with its
// query and user info, which may hold a secret, so errors are stripped
// of it before they reach a message or a log.
func UnwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
