package journal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// ExportFormat names the export format; it opens every manifest line.
const ExportFormat = "sluice-export/1"

// manifestPrefix starts a manifest line and no event line (event lines
// open with "specversion").
var manifestPrefix = []byte(`{"manifest":`)

// signedContext is prepended to a manifest line (without its signature)
// to form the message signed, so that a signature cannot be replayed as
// one over anything else.
const signedContext = "sluice export manifest\n"

// ExportManifest is the last line of an export.
type ExportManifest struct {
	// Manifest is ExportFormat.
	Manifest string `json:"manifest"`
	// From and To are the first and last sequences exported (both zero
	// when Count is zero).
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
	// Count is the number of event lines.
	Count uint64 `json:"count"`
	// PrevHash is the chain hash the first record chains from (the hash of
	// record From-1, zero before sequence 1); HeadHash is the last
	// record's (PrevHash when Count is zero). Hex.
	PrevHash string `json:"prev_hash"`
	HeadHash string `json:"head_hash"`
	// Created is when the export was written (RFC 3339, UTC).
	Created string `json:"created"`
	// Host is the exporting host's name, when given.
	Host string `json:"host,omitempty"`
	// Signature signs the manifest line without this field.
	Signature *ExportSignature `json:"signature,omitempty"`
}

// ExportSignature is an ed25519 signature of a manifest.
type ExportSignature struct {
	// Algorithm is "ed25519".
	Algorithm string `json:"alg"`
	// KeyID is KeyID(PublicKey).
	KeyID string `json:"key_id"`
	// PublicKey is the signer's 32-byte public key, base64. It identifies
	// the key; trust comes from comparing it with a key obtained
	// elsewhere (VerifyExportOptions.PublicKey).
	PublicKey string `json:"public_key"`
	// Value is the 64-byte signature, base64, over "sluice export
	// manifest\n" followed by the manifest line without the signature
	// field and without its newline.
	Value string `json:"value"`
}

// KeyID identifies a public key: the hex of the first 8 bytes of its
// SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// line renders the manifest as a line, signed with key when set.
func (m ExportManifest) line(key ed25519.PrivateKey) ([]byte, error) {
	m.Signature = nil
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if key != nil {
		pub, ok := key.Public().(ed25519.PublicKey)
		if !ok {
			return nil, errors.New("signing key is not ed25519")
		}
		sig := ed25519.Sign(key, append([]byte(signedContext), body...))
		m.Signature = &ExportSignature{
			Algorithm: "ed25519", KeyID: KeyID(pub),
			PublicKey: base64.StdEncoding.EncodeToString(pub), Value: base64.StdEncoding.EncodeToString(sig),
		}
		if body, err = json.Marshal(m); err != nil {
			return nil, err
		}
	}
	return append(body, '\n'), nil
}

// parseManifest decodes a manifest line (without its newline) strictly:
// known fields only, and byte for byte the encoding line renders.
func parseManifest(line []byte) (ExportManifest, error) {
	var m ExportManifest
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("manifest: %w", err)
	}
	if m.Manifest != ExportFormat {
		return m, fmt.Errorf("manifest: unknown format %q (want %s)", m.Manifest, ExportFormat)
	}
	// Only the canonical encoding is accepted: encoding/json takes the
	// last of duplicate keys and matches keys without regard to case,
	// so a line with "count" twice, or a "Count", would verify with the
	// values this reader saw while other JSON readers see others.
	canon, err := json.Marshal(m)
	if err != nil {
		return m, fmt.Errorf("manifest: %w", err)
	}
	if !bytes.Equal(canon, line) {
		return m, errors.New("manifest: the line is not in the canonical form export writes (duplicate, reordered or differently-cased keys, white space or escapes): other JSON readers could see other values")
	}
	return m, nil
}

// checkSignature verifies m's signature over its own content, returning
// the signer's public key.
func (m ExportManifest) checkSignature() (ed25519.PublicKey, error) {
	s := m.Signature
	if s == nil {
		return nil, errors.New("manifest is not signed")
	}
	if s.Algorithm != "ed25519" {
		return nil, fmt.Errorf("unknown signature algorithm %q", s.Algorithm)
	}
	pub, err := base64.StdEncoding.DecodeString(s.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("malformed signature public key")
	}
	sig, err := base64.StdEncoding.DecodeString(s.Value)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, errors.New("malformed signature value")
	}
	unsigned := m
	unsigned.Signature = nil
	body, err := json.Marshal(unsigned)
	if err != nil {
		return nil, err
	}
	if !ed25519.Verify(pub, append([]byte(signedContext), body...), sig) {
		return nil, errors.New("signature does not match the manifest")
	}
	if s.KeyID != KeyID(pub) {
		return nil, errors.New("signature key id does not match its public key")
	}
	return pub, nil
}

// ResignManifest replaces the signature of a manifest line (as written by
// Export) with one made with key, for exports streamed from a running
// engine and signed by the client. A trailing newline is ignored; the
// line returned ends in one. Callers verify the export first (the
// manifest is only parsed here).
func ResignManifest(line []byte, key ed25519.PrivateKey) ([]byte, error) {
	m, err := parseManifest(bytes.TrimSuffix(line, []byte("\n")))
	if err != nil {
		return nil, err
	}
	return m.line(key)
}

// IsManifestLine reports whether line is an export's manifest line.
func IsManifestLine(line []byte) bool { return bytes.HasPrefix(line, manifestPrefix) }

// ReadSigningKey reads an ed25519 private key from a PEM file (PKCS #8,
// "PRIVATE KEY", as written by GenerateSigningKey or `openssl genpkey
// -algorithm ed25519`).
func ReadSigningKey(path string) (ed25519.PrivateKey, error) {
	if err := checkKeyMode(path); err != nil {
		return nil, err
	}
	block, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read signing key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("read signing key %s: not an ed25519 key (%T)", path, k)
	}
	return key, nil
}

// ReadPublicKey reads an ed25519 public key from a PEM file (PKIX,
// "PUBLIC KEY", as written by GenerateSigningKey or `openssl pkey
// -pubout`).
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	block, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read public key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("read public key %s: not an ed25519 key (%T)", path, k)
	}
	return key, nil
}

// ErrKeyExposed is returned (wrapped) by ReadSigningKey for a private key
// file that group or others may read or write: as ssh does, the key is
// refused, since anyone who can read it can sign forged exports.
var ErrKeyExposed = errors.New("signing key file is accessible by group or others")

// checkKeyMode refuses a key file with any group or other permission bit.
func checkKeyMode(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("read key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("read signing key %s: %w (mode %04o): run chmod 600 %s", path, ErrKeyExposed, perm, path)
	}
	return nil
}

func readPEM(path, typ string) (*pem.Block, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, fmt.Errorf("read key %s: no PEM block of type %q", path, typ)
		}
		if block.Type == typ {
			return block, nil
		}
	}
}

// MarshalSigningKey returns the PEM files (private PKCS #8, public PKIX)
// of an ed25519 key.
func MarshalSigningKey(key ed25519.PrivateKey) (private, public []byte, err error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), nil
}
