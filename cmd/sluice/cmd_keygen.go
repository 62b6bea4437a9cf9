package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/journal"
)

func newJournalKeygenCommand(s streams) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:     "keygen -o FILE",
		Example: `  sluice journal keygen -o export-key      # writes export-key and export-key.pub`,
		Short:   "Create an ed25519 key pair for signing exports",
		Long: `Write a new ed25519 private key to FILE (PEM, PKCS #8, mode 0600) and its
public key to FILE.pub (PEM). Give the private key to 'export
--signing-key' or to the engine as SLUICE_SIGNING_KEY=FILE; give the public
key to auditors for 'verify --export FILE --public-key FILE.pub'. Refuses to
overwrite an existing file.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if out == "" {
				return usageErrorf("-o FILE is required")
			}
			_, key, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			priv, pub, err := journal.MarshalSigningKey(key)
			if err != nil {
				return err
			}
			if err := writeNew(out, priv, 0o600); err != nil {
				return err
			}
			if err := writeNew(out+".pub", pub, 0o644); err != nil {
				return err
			}
			_, err = fmt.Fprintf(s.out, "key id %s\nprivate key %s\npublic key %s.pub\n",
				journal.KeyID(key.Public().(ed25519.PublicKey)), out, out)
			return err
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "private key file to create (the public key goes to FILE.pub)")
	return cmd
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
