package httpsink

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sluice-dev/sluice/pipeline"
)

// maxSecretFile bounds what a password or token file may hold.
const maxSecretFile = 64 << 10

// authorization returns the Authorization header value for cfg, reading
// secret files, or "" without authentication. Errors name the file, never
// its content.
func authorization(cfg *Config) (pipeline.Secret, error) {
	switch {
	case cfg.Basic != nil:
		pass := cfg.Basic.Password
		if cfg.Basic.PasswordFile != "" {
			var err error
			if pass, err = readSecretFile(cfg.Basic.PasswordFile); err != nil {
				return "", fmt.Errorf("basic.password_file: %w", err)
			}
			if strings.ContainsFunc(pass.Reveal(), isControl) {
				return "", fmt.Errorf("basic.password_file: %s: the password must not contain control characters", cfg.Basic.PasswordFile)
			}
		}
		cred := base64.StdEncoding.EncodeToString([]byte(cfg.Basic.Username + ":" + pass.Reveal()))
		return pipeline.Secret("Basic " + cred), nil
	case cfg.BearerTokenFile != "":
		tok, err := readSecretFile(cfg.BearerTokenFile)
		if err != nil {
			return "", fmt.Errorf("bearer_token_file: %w", err)
		}
		if !validToken(tok.Reveal()) {
			return "", fmt.Errorf("bearer_token_file: %s: the token must be printable ASCII without spaces", cfg.BearerTokenFile)
		}
		return "Bearer " + tok, nil
	case cfg.BearerToken != "":
		return "Bearer " + cfg.BearerToken, nil
	}
	return "", nil
}

// readSecretFile reads a small secret file without one trailing newline
// (as ${file:...} in the config does).
func readSecretFile(path string) (pipeline.Secret, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	// Nothing was written: a failed close of a read-only file changes nothing.
	_ = f.Close()
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("%s is larger than %d bytes", path, maxSecretFile)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return "", errors.New(path + " is empty")
	}
	return pipeline.Secret(b), nil
}
