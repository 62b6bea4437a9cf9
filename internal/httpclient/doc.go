// Package httpclient holds the HTTP client plumbing Sluice's components
// share, sources and sinks alike (the http, VES and host plugin sinks, the
// probe source, and the clients still to come such as the VM-fault
// source's Nova client): the classification of a response status into
// delivered, transient or permanent (Classify, one implementation for
// every component), whether a refused batch is worth bisecting
// (Bisectable) and the bisection itself (Bisect, used by the http and
// VES sinks), bounded reading of an answer's body for error messages
// (Snippet, ReadAnswer), secret files, basic authentication and what a
// client reads at Provision (Credentials), URL errors stripped of
// secrets, the status_class metric attribute and duration buckets, and
// the User-Agent. The TLS configuration lives in internal/tlsconfig.
//
// It holds only what the components do identically. What differs on
// purpose stays in each: request building and headers, StatusError types
// and their messages, which extra statuses are transient (VES and the
// http sink retry 425; the host plugin sink retries its configured
// retry_statuses instead), logging (VES shouts on 401 and 403) and the
// transports (the host plugin sink mimics WALinuxAgent's connection).
//
// Everything here is safe for concurrent use; nothing keeps state.
package httpclient
