package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/journal"
)

// verifyView is the JSON form of a successful verification.
// RecordBytes is the encoded size of the records checked; DiskBytes the
// size of the segment files holding them, as `journal stats` counts
// disk_bytes (so a whole-journal verify and stats agree).
type verifyView struct {
	First       uint64 `json:"first"`
	Last        uint64 `json:"last"`
	Records     uint64 `json:"records"`
	Segments    int    `json:"segments"`
	RecordBytes int64  `json:"record_bytes"`
	DiskBytes   int64  `json:"disk_bytes"`
	HeadHash    string `json:"head_hash"`
	// Checkpoint is the newest signed checkpoint the journal was checked
	// against, if the engine writes them.
	Checkpoint *checkpointView `json:"checkpoint,omitempty"`
}

func newVerifyView(r journal.VerifyReport) verifyView {
	return verifyView{First: r.First, Last: r.Last, Records: r.Records, Segments: r.Segments, RecordBytes: r.Bytes, HeadHash: hex.EncodeToString(r.HeadHash[:])}
}

func newJournalVerifyCommand(s streams, f *journalFlags) *cobra.Command {
	var (
		from, to            uint64
		exportFile, pubFile string
		allowUntrusted      bool
	)
	cmd := &cobra.Command{
		Use: "verify [--from SEQ] [--to SEQ] [--public-key FILE] | --export FILE [--public-key FILE] [--allow-untrusted]",
		Example: `  sluice journal verify -c sluice.yaml
  sluice journal verify --dir /var/lib/sluice/journal --public-key export-key.pub
  sluice journal verify --export may1.jsonl --public-key export-key.pub`,
		Short: "Check every record's checksum and the hash chain across segments",
		Long: `Check every record's CRC32C, its encoding, that sequences are consecutive,
and the SHA-256 hash chain across all segments, then the journal against
every signed checkpoint (records cut from its end are caught there). Prints
a JSON summary and exits 0 when the journal is intact; otherwise names the
first bad record (segment, sequence, what is wrong) and exits 5.

Checkpoints must be signed with the pinned key: --public-key FILE, or the
public half of the engine's key (journal.signing_key of -c CONFIG, or
$SLUICE_SIGNING_KEY; FILE.pub beside it when the key itself cannot be
read). With a pinned key a journal with records but no checkpoint fails.
Without one, checkpoints are checked against the key they embed, which
proves nothing about who made them ("trusted": false).

With --export FILE (- for stdin), check an export offline instead, without
any journal: each line's chain hash is recomputed from its record, the
first from the manifest's prev_hash; each line must be exactly what export
writes for its record, the manifest byte for byte its canonical encoding;
the manifest's range, count and head hash must agree with the lines; a
signature must verify. The first problem is named by line and sequence
(exit 5). The export is trusted only when its manifest is signed with the
pinned key (as above); otherwise the verdict is "status": "UNTRUSTED" and
the exit status 5, unless --allow-untrusted accepts an export that is only
whole (anyone could have written it).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			pin, err := f.resolveTrustedKey(pubFile)
			if err != nil {
				return err
			}
			if from != 0 && to != 0 && to < from {
				return usageErrorf("--to %d is before --from %d: the range is empty (--from is the first record, --to the last, both included)", to, from)
			}
			if exportFile != "" {
				return verifyExportFile(ctx, s, exportFile, pin, allowUntrusted)
			}
			if allowUntrusted {
				return usageErrorf("--allow-untrusted needs --export")
			}
			return withJournal(ctx, f, func(v journalView) error {
				var (
					rep verifyView
					err error
				)
				if l, ok := v.(localJournal); ok {
					// The total only sizes the progress bar: a journal whose
					// stats cannot be read is the verify's to report
					// (exit 5, naming the damage), not a reason to stop.
					var total int64
					if st, serr := l.j.Stats(ctx); serr == nil {
						total = rangeCount(from, to, st.First, st.Last)
					}
					prog := newProgress(s.errOut, "verify", "records", total)
					rep, err = l.verify(ctx, from, to, pin, func(done, total uint64) {
						prog.setTotal(int64(total))
						prog.set(int64(done), "")
					})
					prog.finish()
				} else {
					rep, err = v.Verify(ctx, from, to, pin)
				}
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
	cmd.Flags().StringVar(&pubFile, "public-key", "", "the trusted ed25519 public key (PEM): checkpoints and, with --export, the manifest must be signed with it")
	cmd.Flags().BoolVar(&allowUntrusted, "allow-untrusted", false, "with --export: exit 0 for an export that is whole but not signed with a trusted key")
	return cmd
}
