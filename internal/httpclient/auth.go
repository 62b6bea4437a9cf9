package httpclient

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sluice-dev/sluice/pipeline"
)

// MaxSecretFile bounds, in bytes, what ReadSecretFile accepts.
const MaxSecretFile = 64 << 10

// ReadSecretFile reads a password or token file of at most MaxSecretFile
// bytes, without one trailing newline ("\n" or "\r\n", as ${file:...} in
// the config does). An empty result is an error. Errors name the file,
// never its content; callers prefix the configuration field.
func ReadSecretFile(path string) (pipeline.Secret, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }() // read only: a failed close changes nothing
	b, err := io.ReadAll(io.LimitReader(f, MaxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > MaxSecretFile {
		return "", fmt.Errorf("%s is larger than %d bytes", path, MaxSecretFile)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return "", errors.New(path + " is empty")
	}
	return pipeline.Secret(b), nil
}

// BasicAuth returns the Authorization header value of HTTP basic
// authentication (RFC 7617): "Basic " and the base64 of
// "username:password". It does not check either part; the sinks reject
// control characters when they validate their configuration.
func BasicAuth(username string, password pipeline.Secret) pipeline.Secret {
	return pipeline.Secret("Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password.Reveal())))
}
