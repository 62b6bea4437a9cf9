// Package fakegce is a FAKE Google Compute Engine metadata server serving
// instance/maintenance-event, for the vmfault source's tests, on a real
// httptest server (127.0.0.1).
//
// It follows what the reference records of the real one (GCP-PY,
// GoogleCloudPlatform/python-docs-samples compute/metadata/main.py, and
// the "monitor and plan for a host maintenance event" page): requests
// need Metadata-Flavor: Google (403 otherwise), answers carry
// Metadata-Flavor: Google and an ETag, the value is plain text (NONE when
// nothing is happening, else the event, e.g. MIGRATE_ON_HOST_MAINTENANCE
// or TERMINATE_ON_HOST_MAINTENANCE), and wait_for_change=true with
// last_etag equal to the current ETag hangs until the value changes or
// timeout_sec passes. Inject503 makes the next answers 503, as the server
// does during maintenance.
package fakegce

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// Path is the maintenance-event path.
const Path = "/computeMetadata/v1/instance/maintenance-event"

// Fake is a running metadata server fake.
type Fake struct {
	srv *httptest.Server
	// URL is the endpoint to configure.
	URL string

	mu      sync.Mutex
	value   string
	version int
	changed chan struct{}
	fail    int
	gets    int
	hanging int
}

// New starts a fake whose value is NONE.
func New() *Fake {
	f := &Fake{value: "NONE", changed: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.handle))
	f.URL = f.srv.URL
	return f
}

// Close stops the server (hanging requests are answered first).
func (f *Fake) Close() {
	f.srv.CloseClientConnections()
	f.srv.Close()
}

// Set changes the value, waking the hanging requests.
func (f *Fake) Set(v string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.value = v
	f.version++
	close(f.changed)
	f.changed = make(chan struct{})
}

// Inject503 makes the next n requests fail with 503.
func (f *Fake) Inject503(n int) { f.mu.Lock(); f.fail += n; f.mu.Unlock() }

// Gets returns how many requests were answered.
func (f *Fake) Gets() int { f.mu.Lock(); defer f.mu.Unlock(); return f.gets }

// Hanging returns how many requests are waiting for a change now.
func (f *Fake) Hanging() int { f.mu.Lock(); defer f.mu.Unlock(); return f.hanging }

func (f *Fake) etagLocked() string {
	h := sha256.Sum256([]byte(f.value + "/" + strconv.Itoa(f.version)))
	return hex.EncodeToString(h[:8])
}

func (f *Fake) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != Path {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Metadata-Flavor") != "Google" {
		http.Error(w, "Missing Metadata-Flavor:Google header.", http.StatusForbidden)
		return
	}
	q := r.URL.Query()
	f.mu.Lock()
	if f.fail > 0 {
		f.fail--
		f.gets++
		f.mu.Unlock()
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	if q.Get("wait_for_change") == "true" && q.Get("last_etag") == f.etagLocked() {
		timeout := 60 * time.Second
		if s, err := strconv.Atoi(q.Get("timeout_sec")); err == nil && s > 0 {
			timeout = time.Duration(s) * time.Second
		}
		changed := f.changed
		f.hanging++
		f.mu.Unlock()
		select {
		case <-changed:
		case <-time.After(timeout):
		case <-r.Context().Done():
		}
		f.mu.Lock()
		f.hanging--
	}
	f.gets++
	v, etag := f.value, f.etagLocked()
	f.mu.Unlock()
	w.Header().Set("Metadata-Flavor", "Google")
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/text")
	_, _ = w.Write([]byte(v))
}
