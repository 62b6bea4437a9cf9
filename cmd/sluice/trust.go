package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"

	"github.com/sluice-dev/sluice/journal"
)

// trustedKey is the public key exports and checkpoints must be signed
// with, and where it came from (for messages).
type trustedKey struct {
	key ed25519.PublicKey
	// from is "--public-key FILE", "journal.signing_key FILE" or
	// "SLUICE_SIGNING_KEY FILE"; empty when there is no key.
	from string
}

// pinned reports whether a key is pinned: signing is configured (or a
// public key was given), so the journal must have signed checkpoints.
func (t trustedKey) pinned() bool { return t.key != nil }

// errNoTrustedKey says that no key is known to judge a signature by.
var errNoTrustedKey = errors.New("no trusted key: pass --public-key FILE (the .pub file from 'sluice journal keygen'), or -c CONFIG whose journal.signing_key names the engine's key")

// resolveTrustedKey returns the key to pin: --public-key FILE, else the
// public half of the engine's signing key, named by the configuration's
// journal.signing_key (read only when -c is given or no --dir) or by
// $SLUICE_SIGNING_KEY. A signing key this process may not read is
// replaced by FILE.pub beside it, as written by keygen. No key at all is
// a zero trustedKey.
func (f *journalFlags) resolveTrustedKey(pubFile string) (trustedKey, error) {
	if pubFile != "" {
		pub, err := journal.ReadPublicKey(pubFile)
		if err != nil {
			return trustedKey{}, usageErrorf("--public-key: %v", err)
		}
		return trustedKey{key: pub, from: "--public-key " + pubFile}, nil
	}
	path, from, err := f.configuredSigningKey()
	if err != nil || path == "" {
		return trustedKey{}, err
	}
	from += " " + path
	key, err := journal.ReadSigningKey(path)
	if err == nil {
		pub, _ := key.Public().(ed25519.PublicKey)
		return trustedKey{key: pub, from: from}, nil
	}
	pub, perr := journal.ReadPublicKey(path + ".pub")
	if perr != nil {
		return trustedKey{}, withExit(exitFailure, fmt.Errorf("signing is configured (%s) but its key cannot be read (%w), nor %s.pub: pass --public-key FILE", from, err, path))
	}
	return trustedKey{key: pub, from: from + ".pub"}, nil
}

// configuredSigningKey returns the engine's signing key file and the
// setting that names it ("" when none does).
func (f *journalFlags) configuredSigningKey() (path, from string, err error) {
	if len(configPaths(f.config)) > 0 || f.dir == "" {
		regs, err := registries()
		if err != nil {
			return "", "", err
		}
		file, err := loadConfig(f.config, regs)
		if err != nil {
			return "", "", withExit(exitInvalidConfig, err)
		}
		if file.Journal.SigningKey != "" {
			return file.Journal.SigningKey, "journal.signing_key", nil
		}
	}
	if p := os.Getenv(signingKeyEnv); p != "" {
		return p, signingKeyEnv, nil
	}
	return "", "", nil
}
