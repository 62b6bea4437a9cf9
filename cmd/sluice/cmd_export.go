package main

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/journal"
)

func newJournalExportCommand(s streams, f *journalFlags) *cobra.Command {
	var (
		from, to, format, out, keyFile string
	)
	cmd := &cobra.Command{
		Use: "export [--from SEQ|TIME] [--to SEQ|TIME] [--format jsonl] [-o FILE] [--signing-key FILE]",
		Example: `  sluice journal export -c sluice.yaml --from 24h -o day.jsonl
  sluice journal export -c sluice.yaml --from 2026-05-01T00:00:00Z --to 2026-05-02T00:00:00Z --signing-key export-key -o may1.jsonl`,
		Short: "Write a range of the journal as CloudEvents JSON lines with a manifest, for auditors",
		Long: `Write the records --from..--to (default: all retained) as CloudEvents JSON
lines, one per record, each with its sequence, append time (appendtime),
chain hash (chainhash) and the journal's own encoding of the event
(sluicerecord, base64), followed by a manifest line: the range, the count,
the hash the range chains from and the head hash. Every record's checksum
and chain link is checked on the way. 'sluice journal verify --export FILE'
checks an export offline.

With --signing-key FILE (an ed25519 private key in PEM, see 'sluice
journal keygen'), the manifest is signed, so the export can be shown to come
from the holder of that key. While the engine runs, the export is made by
the engine and signed with its SLUICE_SIGNING_KEY when it has one
(--signing-key replaces that signature). TIME is as for replay. Output goes
to stdout or to -o FILE (removed again if the export fails).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "jsonl" {
				return usageErrorf("--format %q: only jsonl is supported", format)
			}
			if _, _, err := parseRange(from, to, time.Now()); err != nil {
				return err
			}
			var key ed25519.PrivateKey
			if keyFile != "" {
				var err error
				if key, err = journal.ReadSigningKey(keyFile); err != nil {
					return usageErrorf("--signing-key: %v", err)
				}
			}
			ctx := cmd.Context()
			return withJournal(ctx, f, func(v journalView) error {
				total, err := exportTotal(ctx, v, from, to)
				if err != nil {
					return err
				}
				return exportTo(s, out, total, func(w io.Writer) error {
					switch v := v.(type) {
					case localJournal:
						opts, err := exportOptions(ctx, v.j, from, to)
						if err != nil {
							return err
						}
						opts.Signer = key
						_, err = v.j.Export(ctx, w, opts)
						return journalDamageError(err)
					case *remoteJournal:
						return v.export(ctx, w, from, to, key)
					default:
						return fmt.Errorf("export: unsupported journal view %T", v)
					}
				})
			})
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "first record: SEQ, RFC 3339 TIME or a duration ago (default: the oldest)")
	cmd.Flags().StringVar(&to, "to", "", "last record: SEQ, RFC 3339 TIME or a duration ago (default: the newest)")
	cmd.Flags().StringVar(&format, "format", "jsonl", "output format (jsonl)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	cmd.Flags().StringVar(&keyFile, "signing-key", "", "sign the manifest with this ed25519 private key (PEM)")
	return cmd
}

// exportTotal is how many records an export of from..to writes, for its
// progress bar: exact on a stopped engine's journal and for sequences;
// for a running engine and a TIME bound, the journal's whole extent; 0
// (unknown) when the journal's stats cannot be read, which the export
// itself then reports as the damage it is.
func exportTotal(ctx context.Context, v journalView, from, to string) (int64, error) {
	if l, ok := v.(localJournal); ok {
		opts, err := exportOptions(ctx, l.j, from, to)
		if err != nil {
			return 0, err
		}
		st, err := l.j.Stats(ctx)
		if err != nil {
			return 0, nil //nolint:nilerr // the total only sizes the bar
		}
		return rangeCount(opts.From, opts.To, st.First, st.Last), nil
	}
	fromB, toB, err := parseRange(from, to, time.Now())
	if err != nil {
		return 0, err
	}
	st, err := v.Stats(ctx)
	if err != nil {
		return 0, nil //nolint:nilerr // the total only sizes the bar
	}
	return rangeCount(fromB.seq, toB.seq, st.First, st.Last), nil
}

// rangeCount counts the records from..to (0: the ends) of a journal
// holding first..last.
func rangeCount(from, to, first, last uint64) int64 {
	if last == 0 {
		return 0
	}
	from, to = max(from, first, 1), min(cmp.Or(to, last), last)
	if to < from {
		return 0
	}
	return int64(to - from + 1)
}

// exportTo runs write into stdout or the file out, with progress (total
// records) on stderr; a failed export leaves no file behind.
func exportTo(s streams, out string, total int64, write func(io.Writer) error) error {
	prog := newProgress(s.errOut, "export", "records", total)
	defer prog.finish()
	if out == "" {
		return write(countingWriter{w: s.out, p: prog})
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	err = write(countingWriter{w: tmp, p: prog})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), out)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return nil
}

// Export verdicts ("status" of verify --export).
const (
	verdictOK        = "ok"
	verdictUntrusted = "UNTRUSTED"
)

// verifyExportFile checks an export file offline (no journal needed)
// and states whether it is trusted: signed with the pinned key. An
// untrusted export fails (exit 5) unless allowUntrusted.
func verifyExportFile(ctx context.Context, s streams, path string, pin trustedKey, allowUntrusted bool) error {
	opts := journal.VerifyExportOptions{PublicKey: pin.key}
	r := s.in
	var size int64
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("verify export: %w", err)
		}
		defer func() { _ = f.Close() }()
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
		r = f
	}
	prog := newProgress(s.errOut, "verify", "bytes", size)
	rep, err := journal.VerifyExport(ctx, countingReader{r: r, p: prog}, opts)
	prog.finish()
	if err != nil {
		if errors.Is(err, journal.ErrExportInvalid) {
			return withExit(exitJournalDamage, err)
		}
		return err
	}
	view := struct {
		journal.ExportManifest
		Signed  bool   `json:"signed"`
		Trusted bool   `json:"trusted"`
		Status  string `json:"status"`
		Reason  string `json:"reason,omitempty"`
	}{ExportManifest: rep.Manifest, Signed: rep.Signed, Trusted: rep.Trusted, Status: verdictOK}
	if !rep.Trusted {
		view.Status, view.Reason = verdictUntrusted, errNoTrustedKey.Error()
	}
	if err := writeJSON(s.out, view); err != nil {
		return err
	}
	if !rep.Trusted && !allowUntrusted {
		return withExit(exitJournalDamage, fmt.Errorf("verify export: UNTRUSTED: the export is whole, but nothing shows who wrote it: %w (or --allow-untrusted)", errNoTrustedKey))
	}
	return nil
}
