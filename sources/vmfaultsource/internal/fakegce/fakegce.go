// Package fakegce is a FAKE Google Compute Engine metadata server serving
// instance/maintenance-event and instance/upcoming-maintenance, for the
// vmfault source's tests, on a real httptest server (127.0.0.1).
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
// does during maintenance. upcoming-maintenance (?alt=json) serves JSON
// in the shape of Google's documented example (samples/cloud-events/gcp:
// can_reschedule, latest_window_start_time, maintenance_reasons,
// maintenance_status, type, window_start_time, window_end_time), {} when
// nothing is upcoming, and 404 on machine families that lack the key
// (SetUpcomingMissing).
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

// Paths of the keys served.
const (
	Path         = "/computeMetadata/v1/instance/maintenance-event"
	UpcomingPath = "/computeMetadata/v1/instance/upcoming-maintenance"
)

// UpcomingExample is Google's documented example window, as valid JSON.
const UpcomingExample = `{"can_reschedule": "true", "latest_window_start_time": "2024-12-01T19:00:01Z",
 "maintenance_reasons": ["PLANNED_UPDATE", "PLANNED_NETWORK_UPDATE"], "maintenance_status": "PENDING",
 "type": "SCHEDULED", "window_end_time": "2024-12-01T21:00:01Z", "window_start_time": "2024-12-01T19:00:01Z"}`

// Fake is a running metadata server fake.
type Fake struct {
	srv *httptest.Server
	// URL is the endpoint to configure.
	URL string

	mu   sync.Mutex
	keys map[string]*key
	fail int
	gets int
}

// key is one served value with its version and waiters.
type key struct {
	value   string
	missing bool
	version int
	changed chan struct{}
	hanging int
}

// New starts a fake whose maintenance-event is NONE and whose
// upcoming-maintenance is {}.
func New() *Fake {
	f := &Fake{keys: map[string]*key{
		Path:         {value: "NONE", changed: make(chan struct{})},
		UpcomingPath: {value: "{}", changed: make(chan struct{})},
	}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.handle))
	f.URL = f.srv.URL
	return f
}

// Close stops the server (hanging requests are answered first).
func (f *Fake) Close() {
	f.srv.CloseClientConnections()
	f.srv.Close()
}

// Set changes the maintenance-event value, waking the hanging requests.
func (f *Fake) Set(v string) { f.set(Path, v, false) }

// SetUpcoming changes the upcoming-maintenance JSON.
func (f *Fake) SetUpcoming(doc string) { f.set(UpcomingPath, doc, false) }

// SetUpcomingMissing makes upcoming-maintenance answer 404.
func (f *Fake) SetUpcomingMissing() { f.set(UpcomingPath, "", true) }

func (f *Fake) set(path, v string, missing bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.keys[path]
	k.value, k.missing = v, missing
	k.version++
	close(k.changed)
	k.changed = make(chan struct{})
}

// Inject503 makes the next n requests fail with 503.
func (f *Fake) Inject503(n int) { f.mu.Lock(); f.fail += n; f.mu.Unlock() }

// Gets returns how many requests were answered.
func (f *Fake) Gets() int { f.mu.Lock(); defer f.mu.Unlock(); return f.gets }

// Hanging returns how many requests for path are waiting for a change
// now.
func (f *Fake) Hanging(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.keys[path].hanging
}

func (k *key) etag() string {
	h := sha256.Sum256([]byte(k.value + "/" + strconv.Itoa(k.version)))
	return hex.EncodeToString(h[:8])
}

func (f *Fake) handle(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	k, ok := f.keys[r.URL.Path]
	f.mu.Unlock()
	if !ok {
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
	if q.Get("wait_for_change") == "true" && q.Get("last_etag") == k.etag() && !k.missing {
		timeout := 60 * time.Second
		if s, err := strconv.Atoi(q.Get("timeout_sec")); err == nil && s > 0 {
			timeout = time.Duration(s) * time.Second
		}
		changed := k.changed
		k.hanging++
		f.mu.Unlock()
		select {
		case <-changed:
		case <-time.After(timeout):
		case <-r.Context().Done():
		}
		f.mu.Lock()
		k.hanging--
	}
	f.gets++
	v, etag, missing := k.value, k.etag(), k.missing
	f.mu.Unlock()
	w.Header().Set("Metadata-Flavor", "Google")
	if missing {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/text")
	if r.URL.Path == UpcomingPath {
		w.Header().Set("Content-Type", "application/json")
	}
	_, _ = w.Write([]byte(v))
}
