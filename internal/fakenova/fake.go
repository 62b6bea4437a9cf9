package fakenova

import (
	"embed"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

//go:embed testdata/*.json
var samples embed.FS

// Sample returns the named file of testdata (for parser tests and fuzz
// seeds).
func Sample(name string) []byte {
	b, err := samples.ReadFile("testdata/" + name)
	if err != nil {
		panic(fmt.Sprintf("fakenova: no sample %s: %v", name, err))
	}
	return b
}

// Fault is a Nova fault object.
type Fault struct {
	Code    int
	Message string
	Created time.Time
}

// Server is one server the fake serves.
type Server struct {
	ID      string
	Name    string
	Project string // project id; default the fake's project
	// Status and VMState are Nova's status and OS-EXT-STS:vm_state;
	// TaskState nil is null; PowerState is OS-EXT-STS:power_state.
	Status     string
	VMState    string
	TaskState  *string
	PowerState int
	Fault      *Fault
	// DownCell serves the server as a down cell's partial record.
	DownCell bool
}

// Reply is a canned answer: status, optional Retry-After, and a body (a
// sample name from testdata, or raw JSON).
type Reply struct {
	Status     int
	RetryAfter string
	Sample     string
	Body       string
}

// Route names for Inject and Count.
const (
	RouteAuth   = "auth"
	RouteList   = "list"
	RouteShow   = "show"
	RouteAnyAPI = "nova" // list or show, whichever comes first
)

// Fake is a running Keystone+Nova fake. Configure it before the first
// request or under its methods, which are safe for concurrent use.
type Fake struct {
	srv *httptest.Server
	// URL is the Keystone URL to configure (auth.url).
	URL string

	// Credentials accepted by Keystone.
	Username, UserDomain, Password string
	// ProjectName and ProjectID are the project (domain UserDomain);
	// Projects adds more, name -> id.
	ProjectName, ProjectID string
	Projects               map[string]string

	mu        sync.Mutex
	servers   []*Server
	tokens    map[string]tokenInfo
	nextToken int
	ttl       time.Duration
	maxLimit  int
	injected  map[string][]Reply
	down      map[string]Reply
	counts    map[string]int
	versions  []string
}

type tokenInfo struct {
	project string
	expires time.Time
	revoked bool
}

// New starts a fake on 127.0.0.1 over plain HTTP with user "sluice"/"Default"/"s3cret",
// project "ops" (id 6f70656e737461636b20342065766572, the samples'), a
// token lifetime of one hour and max_limit 1000. Close it when done.
func New() *Fake { return start(false) }

// NewTLS is New over HTTPS; CertPEM returns the CA to trust.
func NewTLS() *Fake { return start(true) }

// CertPEM returns the PEM certificate of a NewTLS fake.
func (f *Fake) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
}

func start(useTLS bool) *Fake {
	f := &Fake{
		Username: "sluice", UserDomain: "Default", Password: "s3cret",
		ProjectName: "ops", ProjectID: "6f70656e737461636b20342065766572",
		Projects: map[string]string{},
		tokens:   map[string]tokenInfo{}, ttl: time.Hour, maxLimit: 1000,
		injected: map[string][]Reply{}, down: map[string]Reply{}, counts: map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/auth/tokens", f.handleAuth)
	mux.HandleFunc("GET /v2.1/{project}/servers/detail", f.handleList)
	mux.HandleFunc("GET /v2.1/{project}/servers/{id}", f.handleShow)
	f.srv = httptest.NewUnstartedServer(mux)
	if useTLS {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	f.URL = f.srv.URL + "/v3"
	return f
}

// Close stops the server.
func (f *Fake) Close() { f.srv.Close() }

// SetTokenTTL sets the lifetime of tokens issued from now on.
func (f *Fake) SetTokenTTL(d time.Duration) { f.mu.Lock(); f.ttl = d; f.mu.Unlock() }

// SetMaxLimit sets Nova's [api]max_limit.
func (f *Fake) SetMaxLimit(n int) { f.mu.Lock(); f.maxLimit = n; f.mu.Unlock() }

// ExpireTokens makes every token issued so far invalid, as an expiry or
// a revocation would.
func (f *Fake) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, t := range f.tokens {
		t.revoked = true
		f.tokens[id] = t
	}
}

// Put adds s, or replaces the server with its id (keeping its place).
func (f *Fake) Put(s Server) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s.Project == "" {
		s.Project = f.ProjectID
	}
	for i, old := range f.servers {
		if old.ID == s.ID {
			f.servers[i] = &s
			return
		}
	}
	f.servers = append(f.servers, &s)
}

// Delete removes the server with id.
func (f *Fake) Delete(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.servers {
		if s.ID == id {
			f.servers = append(f.servers[:i], f.servers[i+1:]...)
			return
		}
	}
}

// Inject queues replies for route: each of the next requests to it gets
// one, instead of the real answer.
func (f *Fake) Inject(route string, replies ...Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.injected[route] = append(f.injected[route], replies...)
}

// Down answers every request to route with r until Up(route), after
// any injected replies: an outage of a duration rather than of a number
// of requests.
func (f *Fake) Down(route string, r Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down[route] = r
}

// Up ends the outage Down began.
func (f *Fake) Up(route string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.down, route)
}

// Count returns how many requests route has had (injected ones
// included).
func (f *Fake) Count(route string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[route]
}

// Microversions returns the microversion of every Nova request so far.
func (f *Fake) Microversions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.versions...)
}

// take counts a request to route and returns an injected reply, if any.
func (f *Fake) take(route string) (Reply, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[route]++
	for _, r := range []string{route, RouteAnyAPI} {
		if r == RouteAnyAPI && route == RouteAuth {
			continue
		}
		if q := f.injected[r]; len(q) > 0 {
			f.injected[r] = q[1:]
			return q[0], true
		}
	}
	if rep, ok := f.down[route]; ok {
		return rep, true
	}
	return Reply{}, false
}

func (f *Fake) reply(w http.ResponseWriter, r Reply) {
	if r.RetryAfter != "" {
		w.Header().Set("Retry-After", r.RetryAfter)
	}
	body := []byte(r.Body)
	if r.Sample != "" {
		body = Sample(r.Sample)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.Status)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// sampleJSON decodes a sample into a generic value.
func sampleJSON(name string) map[string]any {
	var v map[string]any
	if err := json.Unmarshal(Sample(name), &v); err != nil {
		panic(fmt.Sprintf("fakenova: sample %s: %v", name, err))
	}
	return v
}
