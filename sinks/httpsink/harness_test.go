package httpsink_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

// received is one request as the peer saw it.
type received struct {
	Header http.Header
	Body   []byte
	// Events are the decoded events, without the idempotencykey
	// extension, which is in Keys.
	Events []pipeline.Event
	Keys   []string
}

// answerFunc decides the peer's answer to its n-th request (from 0). It
// may block; it should return when r.Context() ends.
type answerFunc func(r *http.Request, rec *received, n int) (status int, body string)

// peer is a CloudEvents receiver on 127.0.0.1 that records every request
// and the events of those it answered with 2xx.
type peer struct {
	srv    *httptest.Server
	answer answerFunc

	mu       sync.Mutex
	requests []*received
	accepted []pipeline.Event
	keys     []string
}

type peerOption func(*httptest.Server)

// withTLS serves HTTPS with cfg.
func withTLS(cfg *tls.Config) peerOption {
	return func(s *httptest.Server) { s.TLS = cfg }
}

// newPeer starts a peer that answers with answer (nil: 200) and stops it
// when the test ends.
func newPeer(t *testing.T, answer answerFunc, opts ...peerOption) *peer {
	t.Helper()
	p := &peer{answer: answer}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected TLS handshake failures
	for _, o := range opts {
		o(p.srv)
	}
	if p.srv.TLS != nil {
		p.srv.StartTLS()
	} else {
		p.srv.Start()
	}
	t.Cleanup(p.srv.Close)
	return p
}

func (p *peer) URL() string { return p.srv.URL + "/events?token=query-secret" }

func (p *peer) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return
	}
	rec := &received{Header: r.Header.Clone(), Body: body}
	decodeErr := rec.decode()
	p.mu.Lock()
	n := len(p.requests)
	p.requests = append(p.requests, rec)
	p.mu.Unlock()

	status, answer := http.StatusOK, ""
	if decodeErr != nil {
		status, answer = http.StatusBadRequest, decodeErr.Error()
	} else if p.answer != nil {
		status, answer = p.answer(r, rec, n)
	}
	if status >= 200 && status <= 299 && r.Context().Err() == nil {
		p.mu.Lock()
		p.accepted = append(p.accepted, rec.Events...)
		p.keys = append(p.keys, rec.Keys...)
		p.mu.Unlock()
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

// decode reads the body by its content type, as a CloudEvents receiver.
func (rec *received) decode() error {
	mt, _, err := mime.ParseMediaType(rec.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	var raws []json.RawMessage
	switch mt {
	case "application/cloudevents+json":
		raws = []json.RawMessage{rec.Body}
	case "application/cloudevents-batch+json":
		if err := json.Unmarshal(rec.Body, &raws); err != nil {
			return err
		}
	default:
		return errors.New("unexpected content type " + mt)
	}
	for _, raw := range raws {
		e, err := pipeline.UnmarshalCloudEventJSON(raw)
		if err != nil {
			return err
		}
		key := e.Extensions["idempotencykey"]
		delete(e.Extensions, "idempotencykey")
		if len(e.Extensions) == 0 {
			e.Extensions = nil
		}
		rec.Events = append(rec.Events, e)
		rec.Keys = append(rec.Keys, key)
	}
	return nil
}

// Requests returns the requests received so far.
func (p *peer) Requests() []*received {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*received(nil), p.requests...)
}

// Accepted returns the events answered with 2xx, in order.
func (p *peer) Accepted() []pipeline.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]pipeline.Event(nil), p.accepted...)
}

// AcceptedIDs returns the IDs of the accepted events, in order.
func (p *peer) AcceptedIDs() []string {
	var ids []string
	for _, e := range p.Accepted() {
		ids = append(ids, e.ID)
	}
	return ids
}

// config returns the defaults aimed at the peer.
// config is the sink's default config for p in mode, with ordering
// "relaxed", whose per-request outcomes most tests examine (strict
// ordering has its own test, TestStrictOrderingStopsAtFirstFailure).
func (p *peer) config(mode httpsink.Mode) *httpsink.Config {
	cfg := httpsink.NewFactory().DefaultConfig().(*httpsink.Config)
	cfg.URL = p.URL()
	cfg.Mode = mode
	cfg.Ordering = httpsink.OrderingRelaxed
	return cfg
}

// newSink builds an unstarted sink.
func newSink(t *testing.T, set pipeline.Settings, cfg *httpsink.Config) pipeline.Sink {
	t.Helper()
	s, err := httpsink.NewFactory().NewSink(t.Context(), set, cfg)
	require.NoError(t, err)
	return s
}

// startSink builds and starts a sink and closes it when the test ends.
func startSink(t *testing.T, set pipeline.Settings, cfg *httpsink.Config) pipeline.Sink {
	t.Helper()
	s := newSink(t, set, cfg)
	require.NoError(t, s.Start(t.Context()))
	t.Cleanup(func() { assert.NoError(t, s.Close(context.Background())) })
	return s
}

// logBuffer collects JSON logs; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// loggingSettings returns settings whose logs, at debug level, go to the
// returned buffer.
func loggingSettings() (pipeline.Settings, *logBuffer) {
	logs := &logBuffer{}
	set := pipeline.NopSettings("collector")
	set.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return set, logs
}

// pki is a test CA with a server and a client certificate, as PEM files.
type pki struct {
	caFile, serverCert, serverKey, clientCert, clientKey string
	pool                                                 *x509.CertPool
	server, client                                       tls.Certificate
}

// newPKI generates a CA and, signed by it, a server certificate for
// 127.0.0.1 and sluice.test and a client certificate.
func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sluice test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	p := &pki{caFile: filepath.Join(dir, "ca.pem"), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	writePEM(t, p.caFile, "CERTIFICATE", caDER)

	issue := func(serial int64, name string, usage x509.ExtKeyUsage) (certFile, keyFile string, cert tls.Certificate) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
			tmpl.DNSNames = []string{"sluice.test"}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		keyDER, err := x509.MarshalECPrivateKey(key)
		require.NoError(t, err)
		certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
		writePEM(t, certFile, "CERTIFICATE", der)
		writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
		require.NoError(t, err)
		return certFile, keyFile, cert
	}
	p.serverCert, p.serverKey, p.server = issue(2, "server", x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey, p.client = issue(3, "client", x509.ExtKeyUsageClientAuth)
	return p
}

// serverTLS is the peer's TLS configuration; with clientCA the peer
// requires a client certificate signed by the test CA.
func (p *pki) serverTLS(clientCA bool) *tls.Config {
	cfg := &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}
	if clientCA {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = p.pool
	}
	return cfg
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}
