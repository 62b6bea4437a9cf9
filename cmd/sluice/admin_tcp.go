package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/internal/httpserver"
)

// errAPIOnSocket answers an API path on a TCP listener without api: tcp.
var errAPIOnSocket = errors.New("not found: the admin API is served on the engine's Unix socket (the sluice journal commands use it); set admin.api: tcp to serve it here too, behind a bearer token")

// tcpHandler is what the TCP listener serves: health, readiness and
// metrics to anyone, and, when token is not empty (admin.api: tcp), the
// admin API to requests that present it. Everything is behind the Host
// and Origin guard (httpserver.Guard: DNS rebinding, cross-site pages).
func (a *admin) tcpHandler(c config.AdminConfig, token string) http.Handler {
	mux := http.NewServeMux()
	a.publicRoutes(mux)
	if token == "" {
		mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
			writeJSONError(w, http.StatusNotFound, errAPIOnSocket)
		})
	} else {
		api := http.NewServeMux()
		a.apiRoutes(api)
		check := httpserver.TokenCheck(token)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if err := check(r.Header); err != nil {
				a.refused(r, "tcp", "token", err, slog.String("remote", r.RemoteAddr))
				w.Header().Set("WWW-Authenticate", httpserver.Challenge(err))
				writeJSONError(w, http.StatusUnauthorized, err)
				return
			}
			api.ServeHTTP(w, r)
		})
	}
	return httpserver.NewGuard(c.Listen, c.AllowedHosts).Handler(mux, func(r *http.Request, err error) {
		a.refused(r, "tcp", httpserver.RefusalReason(err), err, slog.String("remote", r.RemoteAddr), slog.String("host", r.Host))
	})
}

// adminTCPSetup reads what the TCP listener needs before it serves: the
// token (generated into the journal directory the first time) when the
// API is on TCP, and the TLS certificate when admin.tls is set; ln is
// wrapped in TLS then. Errors name the setting.
func adminTCPSetup(ctx context.Context, c *config.AdminConfig, journalDir string, ln net.Listener) (token string, _ net.Listener, _ error) {
	if c.APIOnTCP() {
		t, err := adminToken(c.TokenPath(journalDir))
		if err != nil {
			return "", nil, fmt.Errorf("admin.token_file: %w", err)
		}
		token = t
	}
	if c.TLS.IsZero() {
		return token, ln, nil
	}
	if err := c.TLS.Provision(ctx); err != nil {
		return "", nil, fmt.Errorf("admin.%w", err)
	}
	tc, err := c.TLS.Server("http/1.1")
	if err != nil {
		return "", nil, fmt.Errorf("admin.%w", err)
	}
	return token, tls.NewListener(ln, tc), nil
}

// provisionAdmin reads what the admin section names, for `sluice
// validate`: the TLS files, and the token file when the API is on TCP and
// the file exists (the engine generates a missing one). Errors start with
// the setting ("tls.cert_file: ...", "token_file: ...").
func provisionAdmin(ctx context.Context, file *config.File) error {
	c := file.Admin
	var errs []error
	if !c.TLS.IsZero() {
		if err := c.TLS.Provision(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if c.APIOnTCP() {
		if _, err := readAdminToken(c.TokenPath(file.Journal.Dir), true); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("token_file: %w", err))
		}
	}
	return errors.Join(errs...)
}
