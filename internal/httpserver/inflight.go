package httpserver

import "sync"

// inflight counts the requests being handled, so that Run can wait for
// every handler to return, including those net/http starts after a forced
// close, and refuses new ones once closed.
type inflight struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// enter registers a request; it reports false once closed.
func (f *inflight) enter() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.wg.Add(1)
	return true
}

// leave ends a request registered by enter.
func (f *inflight) leave() { f.wg.Done() }

// closeAndWait refuses new requests and waits for the registered ones.
func (f *inflight) closeAndWait() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.wg.Wait()
}
