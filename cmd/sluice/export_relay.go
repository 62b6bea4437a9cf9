package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	"github.com/sluice-dev/sluice/journal"
)

// relayExport copies an export streamed by the engine to w while
// verifying it (journal.VerifyExport, on the same bytes), and writes the
// manifest line, re-signed with key when one is given, only once the
// whole export verified: a client never signs what it did not check. A
// stream that fails verification is an error with exit code 5 and leaves
// w without a manifest.
func relayExport(ctx context.Context, body io.Reader, w io.Writer, key ed25519.PrivateKey) error {
	pr, pw := io.Pipe()
	verified := make(chan error, 1)
	go func() {
		_, err := journal.VerifyExport(ctx, pr, journal.VerifyExportOptions{})
		_ = pr.CloseWithError(errors.Join(err, errVerifierDone))
		verified <- err
	}()
	fail := func(err error) error {
		_ = pw.CloseWithError(err)
		// The verifier stops on err; its verdict adds nothing to it.
		if verr := <-verified; verr != nil && !errors.Is(verr, err) {
			return fmt.Errorf("%w (verifier: %w)", err, verr)
		}
		return err
	}
	// feed gives the verifier a line; when the verifier stopped early (a
	// bad line), its verdict is the error.
	feed := func(line []byte) error {
		if _, err := pw.Write(line); err != nil {
			_ = pw.Close()
			if verr := <-verified; verr != nil {
				return streamInvalid(verr)
			}
			return fmt.Errorf("export: verify the engine's stream: %w", err)
		}
		return nil
	}
	br := bufio.NewReaderSize(body, 1<<20)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && journal.IsManifestLine(line) {
			if !bytes.HasSuffix(line, []byte("\n")) {
				return fail(errors.New("export: the engine's stream ended inside the manifest"))
			}
			if ferr := feed(line); ferr != nil {
				return ferr
			}
			_ = pw.Close()
			if verr := <-verified; verr != nil {
				return streamInvalid(verr)
			}
			if key != nil {
				if line, err = journal.ResignManifest(line, key); err != nil {
					return fmt.Errorf("export: sign manifest: %w", err)
				}
			}
			_, err = w.Write(line)
			return err
		}
		if len(line) > 0 {
			if ferr := feed(line); ferr != nil {
				return ferr
			}
			if _, werr := w.Write(line); werr != nil {
				return fail(werr)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return fail(ctx.Err())
			}
			return fail(fmt.Errorf("export: the engine's stream ended without a manifest (see the engine's log): %w", err))
		}
	}
}

// errVerifierDone closes the pipe's reading side once the verifier has
// returned, so that a write after that fails instead of blocking.
var errVerifierDone = errors.New("export verifier done")

func streamInvalid(err error) error {
	return withExit(exitJournalDamage, fmt.Errorf("export: the engine's stream does not verify, nothing signed: %w", err))
}
