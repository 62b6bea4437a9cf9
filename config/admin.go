package config

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/sluice-dev/sluice/internal/httpserver"
	"github.com/sluice-dev/sluice/internal/tlsconfig"
	"github.com/sluice-dev/sluice/internal/unixsock"
	"github.com/sluice-dev/sluice/pipeline"
)

var _ pipeline.Config = (*AdminConfig)(nil)

// AdminConfig is the admin section: the engine's TCP listener (health,
// readiness, metrics) and its admin API (journal, dead letters, cursors,
// replay, export, status, pprof), which is served on a Unix socket in the
// journal directory that only the engine's user and root may use, and on
// the TCP listener too, behind a bearer token, when API is "tcp".
// docs/security.md describes who can do what.
type AdminConfig struct {
	// Listen is host:port. "off" or "" disables the TCP listener (the
	// socket stays).
	Listen string `yaml:"listen"`
	// API is where the admin API is served: "socket" (default) on the
	// Unix socket only, or "tcp" on the socket and on Listen, where every
	// API request must present the token of TokenFile.
	API AdminAPI `yaml:"api"`
	// Socket is the admin API's Unix socket. Default: admin.sock in the
	// journal directory. At most 107 bytes (the kernel's limit).
	Socket string `yaml:"socket"`
	// AllowUIDs are the users, besides root and the engine's own user,
	// who may use the socket (checked on every request with the
	// credentials the kernel reports, SO_PEERCRED). With any, the socket
	// file is made 0666 so that they can connect; without, it is 0600.
	AllowUIDs []uint32 `yaml:"allow_uids"`
	// TokenFile holds the bearer token of the TCP API (api: tcp). Default:
	// admin.token in the journal directory, generated (32 random bytes,
	// mode 0600) when it does not exist. A token file group or others may
	// read is refused.
	TokenFile string `yaml:"token_file"`
	// TLS makes the TCP listener HTTPS: cert_file and key_file, and
	// ca_file to require client certificates. Off by default.
	TLS tlsconfig.Config `yaml:"tls"`
	// AllowedHosts are the Host names the TCP listener accepts besides
	// loopback ones and the listen host (DNS rebinding: see
	// httpserver.Guard).
	AllowedHosts []string `yaml:"allowed_hosts"`
	// PProf serves /debug/pprof/ with the admin API. Default false.
	PProf bool `yaml:"pprof"`
}

// AdminAPI says where the admin API is served.
type AdminAPI string

// Admin API placements.
const (
	AdminAPISocket AdminAPI = "socket"
	AdminAPITCP    AdminAPI = "tcp"
)

// UnmarshalText implements encoding.TextUnmarshaler, accepting only the
// defined placements.
func (a *AdminAPI) UnmarshalText(text []byte) error {
	switch v := AdminAPI(text); v {
	case AdminAPISocket, AdminAPITCP:
		*a = v
		return nil
	}
	return fmt.Errorf("want %s or %s, got %q", AdminAPISocket, AdminAPITCP, text)
}

// AdminListenOff is the Listen value that disables the TCP listener.
const AdminListenOff = "off"

// Default file names in the journal directory.
const (
	AdminSocketName = "admin.sock"
	AdminTokenName  = "admin.token"
)

// DefaultAdminConfig listens on loopback only and serves the admin API on
// the socket only.
func DefaultAdminConfig() AdminConfig {
	return AdminConfig{Listen: "127.0.0.1:9464", API: AdminAPISocket}
}

// Enabled reports whether the TCP listener should run.
func (c AdminConfig) Enabled() bool { return c.Listen != "" && c.Listen != AdminListenOff }

// APIOnTCP reports whether the TCP listener serves the admin API.
func (c AdminConfig) APIOnTCP() bool { return c.API == AdminAPITCP && c.Enabled() }

// SocketPath returns the admin socket's path for a journal in
// journalDir.
func (c AdminConfig) SocketPath(journalDir string) string {
	if c.Socket != "" {
		return c.Socket
	}
	return filepath.Join(journalDir, AdminSocketName)
}

// TokenPath returns the token file's path for a journal in journalDir.
func (c AdminConfig) TokenPath(journalDir string) string {
	if c.TokenFile != "" {
		return c.TokenFile
	}
	return filepath.Join(journalDir, AdminTokenName)
}

// Validate checks the fields on their face; it reads no file.
func (c *AdminConfig) Validate() error {
	var errs []error
	if c.Enabled() {
		if err := validateListen(c.Listen); err != nil {
			errs = append(errs, &pipeline.FieldError{Field: "listen", Err: err})
		}
	}
	switch c.API {
	case AdminAPISocket:
		if c.TokenFile != "" {
			errs = append(errs, pipeline.FieldErrorf("token_file", "is the token of the TCP API: set api: tcp, or remove it"))
		}
	case AdminAPITCP:
		if !c.Enabled() {
			errs = append(errs, pipeline.FieldErrorf("api", "tcp needs admin.listen (it is off)"))
		}
	default:
		errs = append(errs, pipeline.FieldErrorf("api", "must be %s or %s, got %q", AdminAPISocket, AdminAPITCP, c.API))
	}
	if len(c.Socket) > unixsock.MaxPathLen {
		errs = append(errs, pipeline.FieldErrorf("socket", "is %d bytes, the kernel's limit is %d", len(c.Socket), unixsock.MaxPathLen))
	}
	errs = append(errs, httpserver.ValidateAllowedHosts("allowed_hosts", c.AllowedHosts)...)
	errs = append(errs, c.TLS.ValidateServer()...)
	return errors.Join(errs...)
}
