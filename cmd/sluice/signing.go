package main

import (
	"crypto/ed25519"
	"fmt"
	"os"

	"github.com/sluice-dev/sluice/journal"
)

// signingKeyEnv names the engine's ed25519 private key file (PEM), used to
// sign the manifests of exports made through the admin listener.
const signingKeyEnv = "SLUICE_SIGNING_KEY"

// signingKeyFromEnv reads $SLUICE_SIGNING_KEY; nil when it is not set.
func signingKeyFromEnv() (ed25519.PrivateKey, error) {
	path := os.Getenv(signingKeyEnv)
	if path == "" {
		return nil, nil
	}
	key, err := journal.ReadSigningKey(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", signingKeyEnv, err)
	}
	return key, nil
}
