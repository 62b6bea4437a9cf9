package probesource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// tcpChecker connects, optionally sends bytes and expects bytes back.
type tcpChecker struct {
	address string
	send    []byte
	expect  []byte
	max     int
	timeout time.Duration
	dialer  net.Dialer
}

var _ checker = (*tcpChecker)(nil)

func newTCPChecker(s spec) *tcpChecker {
	c := s.own
	t := &tcpChecker{address: c.Address, max: int(c.MaxResponseBytes), timeout: s.timeout, dialer: net.Dialer{KeepAlive: -1}}
	if t.max == 0 {
		t.max = defaultMaxResponseBytes
	}
	if c.Send != "" {
		t.send = []byte(c.Send)
	}
	if c.Expect != "" {
		t.expect = []byte(c.Expect)
	}
	return t
}

func (t *tcpChecker) target() string { return t.address }

func (t *tcpChecker) check(ctx context.Context, _ time.Time) outcome {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	conn, err := t.dialer.DialContext(ctx, "tcp", t.address)
	if err != nil {
		return outcome{err: describeErr(ctx, err, t.timeout)}
	}
	defer func() { _ = conn.Close() }()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// Closing the connection when ctx ends (the source stops) unblocks a
	// read the deadline has not ended yet.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if len(t.send) > 0 {
		if _, err := conn.Write(t.send); err != nil {
			return outcome{err: "send: " + describeErr(ctx, err, t.timeout)}
		}
	}
	if len(t.expect) == 0 {
		return outcome{healthy: true}
	}
	got, err := t.readUntil(conn)
	out := outcome{output: string(got), truncated: len(got) >= t.max}
	switch {
	case bytes.Contains(got, t.expect):
		out.healthy, out.truncated = true, false
	case errors.Is(err, io.EOF):
		out.err = fmt.Sprintf("connection closed before %q was received", t.expect)
	case err != nil:
		out.err = fmt.Sprintf("waiting for %q: %s", t.expect, describeErr(ctx, err, t.timeout))
	default:
		out.err = fmt.Sprintf("%q not found in the first %d bytes", t.expect, t.max)
	}
	return out
}

// readUntil reads until the expected bytes arrive, the peer closes, the
// deadline passes or max bytes were read.
func (t *tcpChecker) readUntil(conn net.Conn) ([]byte, error) {
	buf := make([]byte, 0, min(t.max, 4096))
	chunk := make([]byte, min(t.max, 4096))
	for len(buf) < t.max {
		n, err := conn.Read(chunk[:min(len(chunk), t.max-len(buf))])
		buf = append(buf, chunk[:n]...)
		if bytes.Contains(buf, t.expect) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
