package vessink

import (
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
)

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
		if pass, err = httpclient.ReadSecretFile(cfg.PasswordFile); err != nil {
			return "", fmt.Errorf("password_file: %w", err)
		}
		if strings.ContainsFunc(pass.Reveal(), isControl) {
			return "", fmt.Errorf("password_file: %s: the password must not contain control characters", cfg.PasswordFile)
		}
	}
	return httpclient.BasicAuth(cfg.Username, pass), nil
}
