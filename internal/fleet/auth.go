package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
)

// validateAuth checks that at most one way of authenticating is chosen
// and that each is complete. It reads no file.
func (c *ConnConfig) validateAuth() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	hasPass := c.Password != "" || c.PasswordFile != ""
	switch {
	case c.Password != "" && c.PasswordFile != "":
		bad("password_file", "conflicts with password: set one")
	case c.User == "" && hasPass:
		bad("user", "is required with a password")
	case c.User != "" && !hasPass:
		bad("password", "is required with a user (or password_file)")
	}
	if c.Token != "" && c.TokenFile != "" {
		bad("token_file", "conflicts with token: set one")
	}
	var methods []string
	for _, m := range []struct {
		name string
		set  bool
	}{
		{"user", c.User != "" || hasPass},
		{"token", c.Token != "" || c.TokenFile != ""},
		{"creds_file", c.CredsFile != ""},
		{"nkey_file", c.NKeyFile != ""},
	} {
		if m.set {
			methods = append(methods, m.name)
		}
	}
	if len(methods) > 1 {
		bad(methods[1], "conflicts with %s: choose one way to authenticate", methods[0])
	}
	return errs
}

// Provision reads what the connection needs from files: the TLS CA and
// key pair, the password or token file, and checks that the creds and
// nkey files are readable. Errors name the field, never a secret.
// Connect calls it; a component calls it from its own Provision so that
// `sluice validate` reports a missing file.
func (c *ConnConfig) Provision(ctx context.Context) error {
	if !c.TLS.IsZero() {
		if err := c.TLS.Provision(ctx); err != nil {
			return err
		}
	}
	for _, f := range []struct{ field, path string }{{"password_file", c.PasswordFile}, {"token_file", c.TokenFile}} {
		if _, err := secretOrFile("", f.path, f.field); err != nil {
			return err
		}
	}
	for _, f := range []struct{ field, path string }{{"creds_file", c.CredsFile}, {"nkey_file", c.NKeyFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.ReadFile(f.path); err != nil {
			return fmt.Errorf("%s: %w", f.field, err)
		}
	}
	return nil
}

// usesTLS reports whether the connection must use TLS: any tls field is
// set, or a server URL is tls://.
func (c *ConnConfig) usesTLS() bool {
	if !c.TLS.IsZero() {
		return true
	}
	for u := range strings.SplitSeq(c.URL, ",") {
		if strings.HasPrefix(strings.TrimSpace(u), "tls://") {
			return true
		}
	}
	return false
}

// authOptions returns the nats.go options for TLS and authentication,
// reading the secret files. Provision must have been called.
func (c *ConnConfig) authOptions(log *slog.Logger) ([]nats.Option, error) {
	var opts []nats.Option
	if c.usesTLS() {
		tc, err := c.TLS.Client()
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		if tc.InsecureSkipVerify {
			log.Warn("NATS server certificates are not verified (conn.tls.insecure_skip_verify)")
		}
		opts = append(opts, nats.Secure(tc))
	}
	switch {
	case c.User != "":
		pass, err := secretOrFile(c.Password, c.PasswordFile, "password_file")
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.UserInfo(c.User, pass.Reveal()))
	case c.Token != "" || c.TokenFile != "":
		tok, err := secretOrFile(c.Token, c.TokenFile, "token_file")
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Token(tok.Reveal()))
	case c.CredsFile != "":
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	case c.NKeyFile != "":
		o, err := nats.NkeyOptionFromSeed(c.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("nkey_file: %s: %w", c.NKeyFile, err)
		}
		opts = append(opts, o)
	}
	return opts, nil
}

// secretOrFile returns s, or the content of file when s is empty.
func secretOrFile(s pipeline.Secret, file, field string) (pipeline.Secret, error) {
	if s != "" || file == "" {
		return s, nil
	}
	v, err := httpclient.ReadSecretFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	return v, nil
}
