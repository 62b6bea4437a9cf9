package httpclient

import "strconv"

// StatusClass returns the status_class metric attribute of a request:
// "1xx" to "9xx" for a status of 100-999, and "error" otherwise; the
// sinks pass status 0 when no answer came back.
func StatusClass(status int) string {
	if status < 100 || status > 999 {
		return "error"
	}
	return strconv.Itoa(status/100) + "xx"
}
