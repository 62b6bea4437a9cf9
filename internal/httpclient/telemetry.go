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

// DurationBuckets returns the explicit bucket boundaries, in seconds, of
// the sinks' request.duration histograms: 0.5ms to 10s. Each call returns
// a new slice.
func DurationBuckets() []float64 {
	return []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
}
