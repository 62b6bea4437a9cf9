package e2e

import (
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// tcpProxy stands between an agent and nats-server, so that a test can
// break the network between them without touching either process. Every
// connection accepted is dialed through to upstream, and bytes move in
// each direction only while that direction's gate is open:
//
//   - partition closes both gates: bytes already read wait, nothing more
//     is read, so the kernel buffers fill and both ends see a silent
//     network, as with a real partition shorter than TCP's timeouts. New
//     connections are accepted but not dialed through until the heal
//     (the client's connect times out, as when SYNs are lost). An end
//     that closes meanwhile is told to the other end only after the heal.
//   - holdReplies closes only the upstream-to-client gate: the server
//     gets the client's publishes, the client gets no acks.
//   - heal opens both gates.
type tcpProxy struct {
	ln       net.Listener
	upstream string

	mu       sync.Mutex
	changed  *sync.Cond
	toServer bool // gate client -> upstream open
	toClient bool // gate upstream -> client open
	conns    map[net.Conn]struct{}
	closed   bool
	wg       sync.WaitGroup
}

// startProxy listens on a free loopback port and forwards to upstream
// until the test ends.
func startProxy(t testing.TB, upstream string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", freeAddr(t))
	require.NoError(t, err)
	p := &tcpProxy{ln: ln, upstream: upstream, toServer: true, toClient: true, conns: map[net.Conn]struct{}{}}
	p.changed = sync.NewCond(&p.mu)
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// addr is where clients connect.
func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) set(toServer, toClient bool) {
	p.mu.Lock()
	p.toServer, p.toClient = toServer, toClient
	p.changed.Broadcast()
	p.mu.Unlock()
}

func (p *tcpProxy) partition()   { p.set(false, false) }
func (p *tcpProxy) holdReplies() { p.set(true, false) }
func (p *tcpProxy) heal()        { p.set(true, true) }

// wait blocks until the gate of one direction is open (or the proxy
// closed) and reports whether it is open.
func (p *tcpProxy) wait(toClient bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	open := func() bool {
		if toClient {
			return p.toClient
		}
		return p.toServer
	}
	for !p.closed && !open() {
		p.changed.Wait()
	}
	return !p.closed
}

func (p *tcpProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *tcpProxy) untrack(c net.Conn) {
	_ = c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *tcpProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			return
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

// serve dials upstream once both gates are open and pumps both ways.
func (p *tcpProxy) serve(client net.Conn) {
	defer p.untrack(client)
	if !p.wait(false) || !p.wait(true) {
		return
	}
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return // the server is down: the client sees the connection close
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	var wg sync.WaitGroup
	wg.Go(func() { p.pump(client, server, false) })
	wg.Go(func() { p.pump(server, client, true) })
	wg.Wait()
}

// pump copies src to dst through the gate of its direction; when src
// ends, dst is closed (after the gate opens), which ends the other pump.
func (p *tcpProxy) pump(src, dst net.Conn, toClient bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.wait(toClient) {
				break
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil { // EOF or a reset: the other end learns it after the gate opens
			p.wait(toClient)
			break
		}
	}
	_ = dst.Close()
	_ = src.Close()
}

// close stops the proxy and every connection through it.
func (p *tcpProxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		_ = c.Close()
	}
	p.changed.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}
