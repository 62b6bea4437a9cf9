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

// engineSigningKey reads the key named by journal.signing_key, or by
// $SLUICE_SIGNING_KEY when the config names none; nil when neither does.
func engineSigningKey(configured string) (ed25519.PrivateKey, error) {
	path, from := configured, "journal.signing_key"
	if path == "" {
		path, from = os.Getenv(signingKeyEnv), signingKeyEnv
	}
	if path == "" {
		return nil, nil
	}
	key, err := journal.ReadSigningKey(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	return key, nil
}
