package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/config"
)

// remoteJournal reads a running engine's journal through its admin API.
type remoteJournal struct {
	// base is the URL the paths are appended to.
	base   string
	client *http.Client
	// where names the engine in messages: its socket or address.
	where string
}

// dialEngine returns a client of the admin API of the engine holding the
// journal in dir, after checking that this engine holds it: on the Unix
// socket of c (default: in dir), or over TCP at addr when addr is set,
// presenting the token of admin.token_file (default: in dir). The client
// never goes through a proxy.
func dialEngine(ctx context.Context, c config.AdminConfig, dir, addr string) (*remoteJournal, error) {
	var r *remoteJournal
	if addr == "" {
		path := c.SocketPath(dir)
		if err := checkSocketOwner(path, dir); err != nil {
			return nil, err
		}
		r = socketClient(path)
	} else {
		var err error
		if r, err = tcpClient(c, dir, addr); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.checkIdentity(ctx, dir); err != nil {
		return nil, err
	}
	return r, nil
}

// socketClient talks HTTP over the Unix socket at path.
func socketClient(path string) *remoteJournal {
	var d net.Dialer
	t := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		},
	}
	// The host is a placeholder: the socket handler checks the peer,
	// not the Host.
	return &remoteJournal{base: "http://sluice-admin", client: &http.Client{Transport: t}, where: path}
}

// tcpClient talks HTTP, or HTTPS when addr starts with https:// or
// admin.tls is set, to addr, with the admin token. HTTPS trusts the
// system roots and admin.tls.cert_file (a self-signed certificate).
func tcpClient(c config.AdminConfig, dir, addr string) (*remoteJournal, error) {
	scheme := "http"
	if rest, ok := strings.CutPrefix(addr, "https://"); ok {
		scheme, addr = "https", rest
	} else if rest, ok := strings.CutPrefix(addr, "http://"); ok {
		addr = rest
	}
	if !c.TLS.IsZero() {
		scheme = "https"
	}
	tokenPath := c.TokenPath(dir)
	token, err := readAdminToken(tokenPath, false)
	if err != nil {
		return nil, fmt.Errorf("the admin API over TCP needs the engine's token: %w", err)
	}
	t := &http.Transport{Proxy: nil}
	if scheme == "https" {
		roots, err := adminRoots(c.TLS.CertFile)
		if err != nil {
			return nil, err
		}
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	}
	u := url.URL{Scheme: scheme, Host: addr}
	return &remoteJournal{
		base:   u.String(),
		client: &http.Client{Transport: bearerTransport{next: t, token: token}},
		where:  u.String(),
	}, nil
}

// adminRoots returns the system roots plus the engine's own certificate
// file, when readable.
func adminRoots(certFile string) (*x509.CertPool, error) {
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if certFile == "" {
		return roots, nil
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("admin.tls.cert_file: %w", err)
	}
	roots.AppendCertsFromPEM(pem)
	return roots, nil
}

// bearerTransport adds the admin token to every request.
type bearerTransport struct {
	next  http.RoundTripper
	token string
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// get sends a GET and returns a 200 response, or an error with the
// engine's answer.
func (r *remoteJournal) get(ctx context.Context, path string, q url.Values) (*http.Response, error) {
	resp, err := r.send(ctx, path, q)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s: %s", path, resp.Status, body)
	}
	return resp, nil
}

// send sends a GET of path with the query q and returns the response,
// whatever its status.
func (r *remoteJournal) send(ctx context.Context, path string, q url.Values) (*http.Response, error) {
	u := r.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return r.client.Do(req)
}
