// Package fakeimds is a FAKE Azure Instance Metadata Service serving
// Scheduled Events, for the vmfault source's tests, on a real httptest
// server (127.0.0.1).
//
// It is built from the documented examples (testdata/, copied from the
// project's reference samples/cloud-events/azure, which took them from
// MicrosoftDocs/azure-compute-docs@533281db
// articles/virtual-machines/linux/scheduled-events.md): the 4-document
// live-migration sequence (incarnation 1 empty, 2 a Freeze Scheduled for
// WestNO_0 and WestNO_1 with an RFC 1123 NotBefore, 3 the same event
// Started with an empty NotBefore, 4 empty again) and the StartRequests
// body. Like the documentation (and Microsoft's own mock server,
// Azure-Samples/scheduled-events-mock-server), it answers 400 "Bad
// Request" without the Metadata: true header or without api-version, and
// 200 to any well-formed StartRequests POST.
package fakeimds

import (
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
)

//go:embed testdata/*.json
var samples embed.FS

// Sample returns the named testdata file.
func Sample(name string) []byte {
	b, err := samples.ReadFile("testdata/" + name)
	if err != nil {
		panic(fmt.Sprintf("fakeimds: no sample %s: %v", name, err))
	}
	return b
}

// LiveMigration is the documented sequence, incarnations 1 to 4.
var LiveMigration = []string{
	"scheduledevents-incarnation-1.json", "scheduledevents-incarnation-2.json",
	"scheduledevents-incarnation-3.json", "scheduledevents-incarnation-4.json",
}

// Fake is a running IMDS fake.
type Fake struct {
	srv *httptest.Server
	// URL is the endpoint to configure.
	URL string

	mu       sync.Mutex
	doc      []byte
	status   int
	gets     int
	versions []string
	approved []string
	// failPosts is how many StartRequests POSTs to answer 500.
	failPosts int
}

// New starts a fake serving the first document of LiveMigration.
func New() *Fake {
	f := &Fake{doc: Sample(LiveMigration[0]), status: http.StatusOK}
	mux := http.NewServeMux()
	mux.HandleFunc("/metadata/scheduledevents", f.handle)
	f.srv = httptest.NewServer(mux)
	f.URL = f.srv.URL
	return f
}

// Close stops the server.
func (f *Fake) Close() { f.srv.Close() }

// Serve makes the fake answer GETs with body (and status 200).
func (f *Fake) Serve(body []byte) { f.ServeStatus(http.StatusOK, body) }

// ServeSample serves a testdata document.
func (f *Fake) ServeSample(name string) { f.Serve(Sample(name)) }

// ServeStatus makes the fake answer GETs with status and body.
func (f *Fake) ServeStatus(status int, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.doc, f.status = body, status
}

// Gets returns how many GETs were answered.
func (f *Fake) Gets() int { f.mu.Lock(); defer f.mu.Unlock(); return f.gets }

// Versions returns the api-version of every request.
func (f *Fake) Versions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.versions...)
}

// FailApprovals answers the next n StartRequests POSTs with 500 (and
// approves nothing).
func (f *Fake) FailApprovals(n int) { f.mu.Lock(); f.failPosts = n; f.mu.Unlock() }

// Approved returns the EventIds approved so far, in order.
func (f *Fake) Approved() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.approved...)
}

func (f *Fake) handle(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query().Get("api-version")
	f.mu.Lock()
	f.versions = append(f.versions, v)
	f.mu.Unlock()
	if r.Header.Get("Metadata") != "true" || v == "" {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	switch r.Method {
	case http.MethodGet:
		f.mu.Lock()
		f.gets++
		doc, status := f.doc, f.status
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(doc)
	case http.MethodPost:
		var body struct {
			StartRequests []struct {
				EventID string `json:"EventId"`
			} `json:"StartRequests"`
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := json.Unmarshal(b, &body); err != nil || len(body.StartRequests) == 0 {
			http.Error(w, "Bad Request", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		if f.failPosts > 0 {
			f.failPosts--
			f.mu.Unlock()
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		}
		for _, s := range body.StartRequests {
			f.approved = append(f.approved, s.EventID)
		}
		f.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	default:
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
	}
}
