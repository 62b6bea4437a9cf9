// Package httpclient holds the HTTP client plumbing the HTTP-based sinks
// (httpsink, vessink, hostpluginsink) share: the TLS client configuration
// and its validation, the classification of a response status into
// delivered, transient or permanent (and whether a refused batch is
// worth bisecting), bounded reading of an answer's body for error
// messages, secret files and basic authentication, the status_class
// metric attribute and duration buckets, and the User-Agent.
//
// It holds only what the sinks do identically. What differs on purpose
// stays in each sink: request building and headers, StatusError types and
// their messages, how the extra transient statuses are chosen (VES and
// the http sink retry 425; the host plugin sink retries its configured
// retry_statuses instead), logging (VES shouts on 401 and 403) and the
// transports (the host plugin sink mimics WALinuxAgent's connection).
//
// Everything here is safe for concurrent use; nothing keeps state.
package httpclient
