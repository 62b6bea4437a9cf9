package vessink_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/sinks/vessink"
)

// The collector below is a fake of ONAP's reference VES collector
// (dcaegen2-collectors-ves, a Java service that cannot run here), built
// from its documented behaviour (../shared/reference/PROTOCOLS.md §3.2) and
// the official schemas: it checks the path and version, Basic credentials
// (401 PolicyException), the content type, the event/eventList key
// (SVC0002 "Incorrect JSON payload"), validates the body against the
// version's Common Event Format schema with a real draft-04 validator
// (SVC0002 "Bad Parameter (JSON does not conform to schema)"), requires
// one domain per batch (SVC0001), and then answers 202 "Successfully send
// event", or what the test scripted. Its exceptions are written in
// UpperCamel (ServiceException) as the reference collector writes them.

// captured is one request as the collector saw it.
type captured struct {
	Path    string
	Header  http.Header
	Body    []byte
	Version int
	Batch   bool
	// Events are the raw VES events of the body.
	Events []json.RawMessage
	// SchemaErr is the schema validation error, nil when the body
	// conforms.
	SchemaErr error
	// Status is the collector's answer.
	Status int
}

// answerFunc scripts the collector's answer to its n-th request (from 0)
// that passed its own checks; status 0 means the default 202.
type answerFunc func(n int, r *captured) (status int, body string)

type collector struct {
	t      *testing.T
	srv    *httptest.Server
	answer answerFunc
	user   string
	pass   string

	mu       sync.Mutex
	requests []*captured
	accepted []json.RawMessage
}

type collectorOption func(*collector)

// withAnswer scripts the answers.
func withAnswer(f answerFunc) collectorOption { return func(c *collector) { c.answer = f } }

// withBasic requires Basic credentials.
func withBasic(user, pass string) collectorOption {
	return func(c *collector) { c.user, c.pass = user, pass }
}

// withTLSConfig replaces the server's TLS configuration (e.g. to require
// client certificates).
func withTLSConfig(cfg *tls.Config) collectorOption {
	return func(c *collector) { c.srv.TLS = cfg }
}

// newCollector starts an HTTPS collector on 127.0.0.1 with a certificate of
// the test PKI, and stops it when the test ends.
func newCollector(t *testing.T, pki *testPKI, opts ...collectorOption) *collector {
	t.Helper()
	c := &collector{t: t}
	c.srv = httptest.NewUnstartedServer(http.HandlerFunc(c.serve))
	c.srv.EnableHTTP2 = true
	c.srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}, MinVersion: tls.VersionTLS12}
	for _, o := range opts {
		o(c)
	}
	c.srv.StartTLS()
	t.Cleanup(c.srv.Close)
	return c
}

// URL is the collector's server root.
func (c *collector) URL() string { return c.srv.URL }

var pathRE = regexp.MustCompile(`^(?:/[^/]+)*/eventListener/v([0-9]+)(/eventBatch)?$`)

func (c *collector) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return
	}
	rec := &captured{Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	status, answer := c.check(r, rec)
	c.mu.Lock()
	n := len(c.requests)
	c.requests = append(c.requests, rec)
	c.mu.Unlock()
	if status == 0 && c.answer != nil {
		status, answer = c.answer(n, rec)
	}
	if status == 0 {
		status, answer = http.StatusAccepted, "Successfully send event"
	}
	rec.Status = status
	if status >= 200 && status <= 299 && r.Context().Err() == nil {
		c.mu.Lock()
		c.accepted = append(c.accepted, rec.Events...)
		c.mu.Unlock()
	}
	if strings.HasPrefix(answer, "{") {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("X-MinorVersion", "2")
	w.Header().Set("X-PatchVersion", "1")
	w.Header().Set("X-LatestVersion", "7.2.1")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

// check applies the reference collector's checks in its order; status 0
// means the request passed them.
func (c *collector) check(r *http.Request, rec *captured) (int, string) {
	m := pathRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return http.StatusNotFound, "not found"
	}
	rec.Version, _ = strconv.Atoi(m[1])
	rec.Batch = m[2] != ""
	if rec.Version != 5 && rec.Version != 7 {
		return http.StatusBadRequest, fmt.Sprintf("API version v%d is not supported", rec.Version)
	}
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, ""
	}
	if c.user != "" {
		u, p, ok := r.BasicAuth()
		if !ok || u != c.user || p != c.pass {
			return http.StatusUnauthorized, vesException("PolicyException", "POL0001", "Not Authorized")
		}
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return http.StatusUnsupportedMediaType, ""
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body, &doc); err != nil {
		return http.StatusBadRequest, vesException("ServiceException", "SVC0002", "Incorrect JSON payload")
	}
	key := "event"
	if rec.Batch {
		key = "eventList"
	}
	raw, ok := doc[key]
	if !ok {
		return http.StatusBadRequest, vesException("ServiceException", "SVC0002", "Incorrect JSON payload")
	}
	if rec.Batch {
		if json.Unmarshal(raw, &rec.Events) != nil {
			return http.StatusBadRequest, vesException("ServiceException", "SVC0002", "Incorrect JSON payload")
		}
	} else {
		rec.Events = []json.RawMessage{raw}
	}
	if rec.SchemaErr = vessink.ValidateVES(rec.Version, rec.Body); rec.SchemaErr != nil {
		return http.StatusBadRequest, vesException("ServiceException", "SVC0002", "Bad Parameter (JSON does not conform to schema)")
	}
	domains := map[string]bool{}
	for _, e := range rec.Events {
		domains[domainOf(e)] = true
	}
	if len(domains) != 1 {
		return http.StatusBadRequest, vesException("ServiceException", "SVC0001", "Multiple domains in one batch (%1)", "batch")
	}
	return 0, ""
}

// vesException is a VES error body as the reference collector writes it.
func vesException(kind, id, text string, vars ...string) string {
	inner := map[string]any{"messageId": id, "text": text}
	if len(vars) > 0 {
		inner["variables"] = vars
	}
	b, _ := json.Marshal(map[string]any{"requestError": map[string]any{kind: inner}})
	return string(b)
}

// Requests returns the requests received so far.
func (c *collector) Requests() []*captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*captured(nil), c.requests...)
}

// Accepted returns the events answered with 2xx, in order.
func (c *collector) Accepted() []json.RawMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]json.RawMessage(nil), c.accepted...)
}

// requireConforming fails the test when any request so far did not
// conform to its schema.
func (c *collector) requireConforming(t *testing.T) {
	t.Helper()
	for i, r := range c.Requests() {
		require.NoError(t, r.SchemaErr, "request %d (%s) does not conform to the v%d schema:\n%s", i, r.Path, r.Version, r.Body)
	}
}

// vesHeader is the part of a VES event the tests read.
type vesHeader struct {
	CommonEventHeader struct {
		Domain              string `json:"domain"`
		EventID             string `json:"eventId"`
		EventName           string `json:"eventName"`
		Sequence            uint64 `json:"sequence"`
		StartEpochMicrosec  int64  `json:"startEpochMicrosec"`
		LastEpochMicrosec   int64  `json:"lastEpochMicrosec"`
		Priority            string `json:"priority"`
		SourceName          string `json:"sourceName"`
		ReportingEntityName string `json:"reportingEntityName"`
	} `json:"commonEventHeader"`
}

func headerOf(t *testing.T, raw json.RawMessage) vesHeader {
	t.Helper()
	var h vesHeader
	require.NoError(t, json.Unmarshal(raw, &h))
	return h
}

func domainOf(raw json.RawMessage) string {
	var h vesHeader
	_ = json.Unmarshal(raw, &h)
	return h.CommonEventHeader.Domain
}

// testPKI is a CA with a server certificate for 127.0.0.1 and localhost
// and a client certificate, written as PEM files.
type testPKI struct {
	caFile, clientCert, clientKey string
	pool                          *x509.CertPool
	server                        tls.Certificate
}

func newPKI(t testing.TB) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vessink test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	p := &testPKI{pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.caFile = filepath.Join(dir, "ca.pem")
	writePEM(t, p.caFile, "CERTIFICATE", caDER)

	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP, names []string) ([]byte, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: ips, DNSNames: names,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		return der, key
	}
	srvDER, srvKey := issue(2, "collector", x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1")}, []string{"localhost"})
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, "sluice", x509.ExtKeyUsageClientAuth, nil, nil)
	p.clientCert = filepath.Join(dir, "client.pem")
	p.clientKey = filepath.Join(dir, "client-key.pem")
	writePEM(t, p.clientCert, "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	require.NoError(t, err)
	writePEM(t, p.clientKey, "EC PRIVATE KEY", keyDER)
	return p
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

// basicHeader is the Authorization value for user and pass.
func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}
