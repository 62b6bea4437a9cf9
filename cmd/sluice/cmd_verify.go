package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/journal"
)

// verifyView is the JSON form of a successful verification.
type verifyView struct {
	First    uint64 `json:"first"`
	Last     uint64 `json:"last"`
	Records  uint64 `json:"records"`
	Segments int    `json:"segments"`
	Bytes    int64  `json:"bytes"`
	HeadHash string `json:"head_hash"`
	// Checkpoint is the newest signed checkpoint the journal was checked
	// against, if the engine writes them.
	Checkpoint *checkpointView `json:"checkpoint,omitempty"`
}

func newVerifyView(r journal.VerifyReport) verifyView {
	return verifyView{First: r.First, Last: r.Last, Records: r.Records, Segments: r.Segments, Bytes: r.Bytes, HeadHash: hex.EncodeToString(r.HeadHash[:])}
}

func newJournalVerifyCommand(s streams, f *journalFlags) *cobra.Command {
	var (
		from, to            uint64
		exportFile, pubFile string
	)
	cmd := &cobra.Command{
		Use:   "verify [--from SEQ] [--to SEQ] | --export FILE [--public-key FILE]",
		Short: "Check every record's checksum and the hash chain across segments",
		Long: `Check every record's CRC32C, its encoding, that sequences are consecutive,
and the SHA-256 hash chain across all segments. Prints a JSON summary and
exits 0 when the journal is intact; otherwise names the first bad record
(segment, sequence, what is wrong) and exits 5.

With --export FILE (- for stdin), check an export offline instead, without
any journal: each line's chain hash is recomputed from its record, the
first from the manifest's prev_hash; each line must be exactly what export
writes for its record; the manifest's range, count and head hash must agree
with the lines; a signature must verify, and with --public-key FILE it must
be made with that key. The first problem is named by line and sequence
(exit 5).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if exportFile != "" {
				return verifyExportFile(ctx, s, exportFile, pubFile)
			}
			if pubFile != "" {
				return usageErrorf("--public-key needs --export")
			}
			return withJournal(ctx, f, func(v journalView) error {
				rep, err := v.Verify(ctx, from, to)
				if err != nil {
					return err
				}
				b, err := json.MarshalIndent(rep, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(s.out, "%s\n", b)
				return err
			})
		},
	}
	cmd.Flags().Uint64Var(&from, "from", 0, "first sequence to check (default: the oldest retained)")
	cmd.Flags().Uint64Var(&to, "to", 0, "last sequence to check (default: the newest)")
	cmd.Flags().StringVar(&exportFile, "export", "", "check this export file (from 'journal export') instead of the journal")
	cmd.Flags().StringVar(&pubFile, "public-key", "", "with --export: require the manifest to be signed with this ed25519 public key (PEM)")
	return cmd
}
