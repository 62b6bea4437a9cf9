package vessink

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

// maxSecretFile bounds what a password file may hold.
const maxSecretFile = 64 << 10

// authorization returns the Authorization header value, reading
// password_file, or "" without authentication. Errors name the file,
// never its content.
func authorization(cfg *Config) (pipeline.Secret, error) {
	if cfg.Username == "" {
		return "", nil
	}
	pass := cfg.Password
	if cfg.PasswordFile != "" {
		var err error
		if pass, err = readSecretFile(cfg.PasswordFile); err != nil {
			return "", fmt.Errorf("password_file: %w", err)
		}
		if strings.ContainsFunc(pass.Reveal(), isControl) {
			return "", fmt.Errorf("password_file: %s: the password must not contain control characters", cfg.PasswordFile)
		}
	}
	cred := base64.StdEncoding.EncodeToString([]byte(cfg.Username + ":" + pass.Reveal()))
	return pipeline.Secret("Basic " + cred), nil
}

// readSecretFile reads a small secret file without one trailing newline
// (as ${file:...} in the config does).
func readSecretFile(path string) (pipeline.Secret, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }() // read only
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
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
