package fleet_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/internal/fleet/fleettest"
	"github.com/sluice-dev/sluice/pipeline"
)

// lockedBuffer is a log destination safe for nats.go's callbacks.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const (
	secretPassword = "s3cret-pa55word"
	secretToken    = "t0ken-never-logged"
)

// TestConnectTLSAndAuth connects to in-process servers requiring TLS
// and each kind of authentication: a right configuration reaches
// JetStream, a wrong one never connects, and no secret reaches the logs,
// the errors or the config's printed form.
func TestConnectTLSAndAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := fleettest.NewCA(t, dir)
	otherCA := fleettest.NewCA(t, t.TempDir())
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content+"\n"), 0o600))
		return p
	}
	user, err := nkeys.CreateUser()
	require.NoError(t, err)
	seed, err := user.Seed()
	require.NoError(t, err)
	pub, err := user.PublicKey()
	require.NoError(t, err)
	nkeyFile := write("user.nk", string(seed))
	passFile := write("pass", secretPassword)
	tokenFile := write("token", secretToken)

	userServer := func(o *server.Options) { o.Username, o.Password = "router", secretPassword }
	tokenServer := func(o *server.Options) { o.Authorization = secretToken }
	nkeyServer := func(o *server.Options) { o.Nkeys = []*server.NkeyUser{{Nkey: pub}} }

	for _, c := range []struct {
		name    string
		server  []func(*server.Options)
		conn    func(*fleet.ConnConfig)
		connect bool
	}{
		{"tls verified with ca_file", []func(*server.Options){ca.TLS}, func(c *fleet.ConnConfig) { c.TLS.CAFile = ca.CAFile }, true},
		{"tls url verified with ca_file", []func(*server.Options){ca.TLS}, func(c *fleet.ConnConfig) {
			c.URL = strings.Replace(c.URL, "nats://", "tls://", 1)
			c.TLS.CAFile = ca.CAFile
		}, true},
		{"tls with another CA is refused", []func(*server.Options){ca.TLS}, func(c *fleet.ConnConfig) { c.TLS.CAFile = otherCA.CAFile }, false},
		{"tls url with system roots is refused", []func(*server.Options){ca.TLS}, func(c *fleet.ConnConfig) {
			c.URL = strings.Replace(c.URL, "nats://", "tls://", 1)
		}, false},
		{"tls insecure_skip_verify", []func(*server.Options){ca.TLS}, func(c *fleet.ConnConfig) { c.TLS.InsecureSkipVerify = true }, true},
		{"plain client to a tls server", []func(*server.Options){ca.TLS}, func(*fleet.ConnConfig) {}, false},
		{"user and password", []func(*server.Options){userServer}, func(c *fleet.ConnConfig) {
			c.User, c.Password = "router", secretPassword
		}, true},
		{"user and password_file over tls", []func(*server.Options){userServer, ca.TLS}, func(c *fleet.ConnConfig) {
			c.User, c.PasswordFile, c.TLS.CAFile = "router", passFile, ca.CAFile
		}, true},
		{"wrong password", []func(*server.Options){userServer}, func(c *fleet.ConnConfig) {
			c.User, c.Password = "router", secretPassword+"x"
		}, false},
		{"no credentials", []func(*server.Options){userServer}, func(*fleet.ConnConfig) {}, false},
		{"token", []func(*server.Options){tokenServer}, func(c *fleet.ConnConfig) { c.Token = secretToken }, true},
		{"token_file", []func(*server.Options){tokenServer}, func(c *fleet.ConnConfig) { c.TokenFile = tokenFile }, true},
		{"wrong token", []func(*server.Options){tokenServer}, func(c *fleet.ConnConfig) { c.Token = secretToken + "x" }, false},
		{"nkey_file", []func(*server.Options){nkeyServer}, func(c *fleet.ConnConfig) { c.NKeyFile = nkeyFile }, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := fleettest.Start(t, c.server...)
			logs := &lockedBuffer{}
			log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			cfg := fleet.DefaultConnConfig()
			cfg.URL = srv.URL()
			cfg.ReconnectWait = 50 * time.Millisecond
			cfg.ConnectTimeout = time.Second
			c.conn(&cfg)
			require.NoError(t, cfg.Validate())
			nc, err := fleet.Connect(t.Context(), cfg, "test", log)
			require.NoError(t, err) // a server that refuses is retried, not an error
			defer nc.Close()
			if c.connect {
				require.Eventually(t, nc.IsConnected, 5*time.Second, 10*time.Millisecond, "logs: %s", logs)
				_, err := nc.Request("$JS.API.INFO", nil, 2*time.Second)
				require.NoError(t, err, "JetStream reachable")
			} else {
				require.Eventually(t, func() bool { return logs.String() != "" }, 5*time.Second, 10*time.Millisecond, "the refusal is logged")
				require.False(t, nc.IsConnected())
			}
			nc.Close()
			printed := fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, logs)
			for _, secret := range []string{secretPassword, secretToken, string(seed)} {
				require.NotContains(t, printed, secret)
			}
		})
	}
}

// TestConnectErrorsNameFieldsNotSecrets checks that configuration errors
// found while connecting name the field and the file, not its content.
func TestConnectErrorsNameFieldsNotSecrets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		name, want string
		conn       func(*fleet.ConnConfig)
	}{
		{"missing password_file", "password_file", func(c *fleet.ConnConfig) { c.User, c.PasswordFile = "u", filepath.Join(dir, "nope") }},
		{"missing token_file", "token_file", func(c *fleet.ConnConfig) { c.TokenFile = filepath.Join(dir, "nope") }},
		{"missing creds_file", "creds_file", func(c *fleet.ConnConfig) { c.CredsFile = filepath.Join(dir, "nope") }},
		{"missing nkey_file", "nkey_file", func(c *fleet.ConnConfig) { c.NKeyFile = filepath.Join(dir, "nope") }},
		{"missing ca_file", "tls.ca_file", func(c *fleet.ConnConfig) { c.TLS.CAFile = filepath.Join(dir, "nope") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := fleet.DefaultConnConfig()
			cfg.URL = "nats://u:" + secretPassword + "@127.0.0.1:1"
			c.conn(&cfg)
			require.NoError(t, cfg.Validate())
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			_, err := fleet.Connect(ctx, cfg, "test", slog.New(slog.DiscardHandler))
			require.ErrorContains(t, err, c.want)
			require.NotContains(t, err.Error(), secretPassword)
			require.ErrorContains(t, cfg.Provision(ctx), c.want)
		})
	}
}

func TestConnConfigValidateAuth(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, want string
		conn       func(*fleet.ConnConfig)
	}{
		{"password without user", "user: is required", func(c *fleet.ConnConfig) { c.Password = "p" }},
		{"user without password", "password: is required", func(c *fleet.ConnConfig) { c.User = "u" }},
		{"password and password_file", "password_file: conflicts", func(c *fleet.ConnConfig) { c.User, c.Password, c.PasswordFile = "u", "p", "f" }},
		{"token and token_file", "token_file: conflicts", func(c *fleet.ConnConfig) { c.Token, c.TokenFile = "t", "f" }},
		{"user and token", "token: conflicts with user", func(c *fleet.ConnConfig) { c.User, c.Password, c.Token = "u", "p", "t" }},
		{"creds and nkey", "nkey_file: conflicts with creds_file", func(c *fleet.ConnConfig) { c.CredsFile, c.NKeyFile = "c", "n" }},
		{"insecure with ca", "tls.insecure_skip_verify", func(c *fleet.ConnConfig) { c.TLS.CAFile, c.TLS.InsecureSkipVerify = "ca", true }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := fleet.DefaultConnConfig()
			c.conn(&cfg)
			err := cfg.Validate()
			require.ErrorContains(t, err, c.want)
			require.NotContains(t, err.Error(), secretPassword)
		})
	}
	cfg := fleet.DefaultConnConfig()
	cfg.User, cfg.Password = "u", pipeline.Secret(secretPassword)
	require.NoError(t, cfg.Validate())
}
