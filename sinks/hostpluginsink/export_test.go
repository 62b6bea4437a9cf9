package hostpluginsink

import "github.com/sluice-dev/sluice/pipeline"

// SetDialAddr makes an unstarted sink dial addr instead of its endpoint,
// so that a test can keep the endpoint (and the Host header) of the real
// WireServer while the requests reach a loopback server.
func SetDialAddr(s pipeline.Sink, addr string) {
	s.(*sink).dialAddr = addr
}

// AppendPyString exposes the string encoder to the fuzz test.
func AppendPyString(dst []byte, s string, limit int) []byte { return appendPyString(dst, s, limit) }
