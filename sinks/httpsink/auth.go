package httpsink

import (
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
)

// authorization returns the Authorization header value for cfg, reading
// secret files, or "" without authentication. Errors name the file, never
// its content.
func authorization(cfg *Config) (pipeline.Secret, error) {
	switch {
	case cfg.Basic != nil:
		pass := cfg.Basic.Password
		if cfg.Basic.PasswordFile != "" {
			var err error
			if pass, err = httpclient.ReadSecretFile(cfg.Basic.PasswordFile); err != nil {
				return "", fmt.Errorf("basic.password_file: %w", err)
			}
			if strings.ContainsFunc(pass.Reveal(), isControl) {
				return "", fmt.Errorf("basic.password_file: %s: the password must not contain control characters", cfg.Basic.PasswordFile)
			}
		}
		return httpclient.BasicAuth(cfg.Basic.Username, pass), nil
	case cfg.BearerTokenFile != "":
		tok, err := httpclient.ReadSecretFile(cfg.BearerTokenFile)
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
