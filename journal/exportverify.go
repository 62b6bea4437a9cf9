package journal

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// ErrExportInvalid is returned by VerifyExport for an export that fails a
// check; the concrete error is an *ExportError.
var ErrExportInvalid = errors.New("export invalid")

// ExportError names the first problem VerifyExport found.
type ExportError struct {
	// Line is the 1-based line number, 0 for problems of the whole file.
	Line int
	// Seq is the record's sequence, when known.
	Seq uint64
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *ExportError) Error() string {
	msg := "export invalid"
	if e.Line > 0 {
		msg += fmt.Sprintf(": line %d", e.Line)
	}
	if e.Seq > 0 {
		msg += fmt.Sprintf(": seq %d", e.Seq)
	}
	return msg + ": " + e.Reason
}

// Is reports whether target is ErrExportInvalid.
func (e *ExportError) Is(target error) bool { return target == ErrExportInvalid }

// VerifyExportOptions tunes VerifyExport.
type VerifyExportOptions struct {
	// PublicKey, when set, requires the manifest to be signed with it.
	PublicKey ed25519.PublicKey
	// Workers checks lines in parallel; zero means GOMAXPROCS.
	Workers int
}

// ExportReport describes an export that verified.
type ExportReport struct {
	Manifest ExportManifest
	// Signed is true when the manifest carries a valid signature, and
	// Trusted when it was made with VerifyExportOptions.PublicKey.
	Signed, Trusted bool
}

// VerifyExport checks an export read from r, offline: every line's chain
// hash is recomputed from its sluicerecord payload, sequence and append
// time, the first from the manifest's prev_hash; every line must equal,
// byte for byte, the line Export renders from that payload (so no
// attribute can be changed, added or removed); sequences are consecutive;
// the manifest's range, count and head hash agree with the lines; and a
// signature, when present, verifies. It returns the first problem as an
// *ExportError (errors.Is(err, ErrExportInvalid)).
func VerifyExport(ctx context.Context, r io.Reader, opts VerifyExportOptions) (ExportReport, error) {
	var (
		rep      ExportReport
		manifest []byte
		first    []byte // the first event line, checked against prev_hash at the end
		firstAt  int
		lines    uint64
		lastSeq  uint64
		last     [32]byte
	)
	err := runChunks(ctx, opts.Workers,
		func(ctx context.Context, emit func(*chunk) bool) error { return readLineChunks(r, emit) },
		verifyChunk,
		func(c *chunk) error {
			v := &c.v
			if manifest != nil && (v.count > 0 || v.manifest != nil) {
				return &ExportError{Line: c.line, Reason: "lines after the manifest"}
			}
			if v.count > 0 {
				if lines > 0 && v.firstSeq != lastSeq+1 {
					return &ExportError{Line: c.line, Seq: v.firstSeq, Reason: fmt.Sprintf("sequence gap: expected %d", lastSeq+1)}
				}
				if first == nil {
					first, firstAt = bytes.Clone(v.firstLine), c.line
				}
				lines += v.count
				lastSeq, last = v.lastSeq, c.last
			}
			if v.manifest != nil {
				manifest = bytes.Clone(v.manifest)
			}
			return nil
		})
	if err != nil {
		return rep, fmt.Errorf("verify export: %w", err)
	}
	if manifest == nil {
		return rep, fmt.Errorf("verify export: %w", &ExportError{Reason: "no manifest line: the export is truncated"})
	}
	m, err := parseManifest(manifest)
	if err != nil {
		return rep, fmt.Errorf("verify export: %w", &ExportError{Line: int(lines) + 1, Reason: err.Error()})
	}
	rep.Manifest = m
	if err := checkManifest(m, lines, lastSeq, last, first, firstAt); err != nil {
		return rep, fmt.Errorf("verify export: %w", err)
	}
	if m.Signature != nil {
		pub, err := m.checkSignature()
		if err != nil {
			return rep, fmt.Errorf("verify export: %w", &ExportError{Line: int(lines) + 1, Reason: err.Error()})
		}
		rep.Signed = true
		rep.Trusted = opts.PublicKey != nil && opts.PublicKey.Equal(pub)
	}
	if opts.PublicKey != nil && !rep.Trusted {
		reason := "manifest is not signed"
		if rep.Signed {
			reason = fmt.Sprintf("manifest is signed by key %s, not by the given public key %s", m.Signature.KeyID, KeyID(opts.PublicKey))
		}
		return rep, fmt.Errorf("verify export: %w", &ExportError{Line: int(lines) + 1, Reason: reason})
	}
	return rep, nil
}

// checkManifest compares the manifest with the lines seen.
func checkManifest(m ExportManifest, lines, lastSeq uint64, last [32]byte, first []byte, firstAt int) error {
	mline := int(lines) + 1
	p, err := hex.DecodeString(m.PrevHash)
	if err != nil || len(p) != 32 {
		return &ExportError{Line: mline, Reason: "manifest prev_hash malformed"}
	}
	prev := [32]byte(p)
	if m.Count != lines {
		return &ExportError{Line: mline, Reason: fmt.Sprintf("manifest count %d, but the export has %d lines (lines removed or added?)", m.Count, lines)}
	}
	head := prev
	if lines > 0 {
		f, _, err := parseLine(first, nil)
		if err != nil {
			return &ExportError{Line: firstAt, Reason: err.Error()}
		}
		if m.From != f.seq || m.To != lastSeq {
			return &ExportError{Line: mline, Reason: fmt.Sprintf("manifest range %d..%d, but the lines hold %d..%d", m.From, m.To, f.seq, lastSeq)}
		}
		var want [32]byte
		newChainer().sum(want[:], &prev, f.seq, f.appendTime, f.payload)
		if want != f.hash {
			return &ExportError{Line: firstAt, Seq: f.seq, Reason: "hash chain broken: the first record does not chain from the manifest's prev_hash"}
		}
		head = last
	}
	if m.HeadHash != hex.EncodeToString(head[:]) {
		return &ExportError{Line: mline, Reason: fmt.Sprintf("manifest head_hash %s, but the last line's chain hash is %x", m.HeadHash, head)}
	}
	return nil
}

// chunkVerdict is what one worker learned about a chunk of lines.
type chunkVerdict struct {
	count             uint64
	firstSeq, lastSeq uint64
	firstLine         []byte // the chunk's first event line when unanchored
	manifest          []byte
}

// readLineChunks splits r into chunks of whole lines. Each chunk but the
// first is anchored on the chain hash claimed by the line before it,
// which that line's own check confirms.
func readLineChunks(r io.Reader, emit func(*chunk) bool) error {
	br := bufio.NewReaderSize(r, chunkBytes)
	lineNo := 1
	var prev [32]byte
	anchored := false
	c := getChunk()
	c.line = lineNo
	flush := func() bool {
		if len(c.offs) == 0 {
			return true
		}
		c.prev, c.anchored = prev, anchored
		lastStart := 0
		if n := len(c.offs); n > 1 {
			lastStart = c.offs[n-2]
		}
		if h, ok := claimedHash(c.buf[lastStart:c.offs[len(c.offs)-1]]); ok {
			prev, anchored = h, true
		} else {
			anchored = false
		}
		ok := emit(c)
		c = getChunk()
		c.line = lineNo
		return ok
	}
	for {
		line, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			c.buf = append(c.buf, line...)
			line, err = br.ReadSlice('\n')
		}
		if len(line) > 0 {
			c.buf = append(c.buf, bytes.TrimSuffix(line, []byte("\n"))...)
			c.offs = append(c.offs, len(c.buf))
			lineNo++
			if (len(c.offs) >= chunkRecords || len(c.buf) >= chunkBytes) && !flush() {
				return nil
			}
		}
		if errors.Is(err, io.EOF) {
			flush()
			return nil
		}
		if err != nil {
			return fmt.Errorf("read export: %w", err)
		}
	}
}

// claimedHash extracts a line's chainhash attribute without checking it.
func claimedHash(line []byte) ([32]byte, bool) {
	var h [32]byte
	if f, ok := parseLinePrefix(line); ok {
		return f.hash, true
	}
	var hs []byte
	if topLevelStrings(line, func(k, v []byte) {
		if string(k) == extChainHash {
			hs = v
		}
	}) != nil || len(hs) != 64 {
		return h, false
	}
	_, err := hex.Decode(h[:], hs)
	return h, err == nil
}

// verifyChunk checks a chunk of export lines.
func verifyChunk(c *chunk, lr *lineRenderer, ch *chainer) {
	v := &c.v
	prev, anchored := c.prev, c.anchored
	start := 0
	var want [32]byte
	for i, end := range c.offs {
		line := c.buf[start:end]
		start = end
		lineNo := c.line + i
		if IsManifestLine(line) {
			if i != len(c.offs)-1 {
				c.err = &ExportError{Line: lineNo, Reason: "lines after the manifest"}
				return
			}
			v.manifest = line
			break
		}
		f, scratch, ok := parseLineFast(line, lr.scratch)
		if !ok {
			var err error
			if f, scratch, err = parseLine(line, scratch); err != nil {
				lr.scratch = scratch
				c.err = &ExportError{Line: lineNo, Reason: err.Error()}
				return
			}
		}
		lr.scratch = scratch
		if v.count > 0 && f.seq != v.lastSeq+1 {
			c.err = &ExportError{Line: lineNo, Seq: f.seq, Reason: fmt.Sprintf("sequence gap: expected %d (a line removed or moved?)", v.lastSeq+1)}
			return
		}
		if v.count == 0 {
			v.firstSeq = f.seq
		}
		if i > 0 || anchored {
			ch.sum(want[:], &prev, f.seq, f.appendTime, f.payload)
			if want != f.hash {
				c.err = &ExportError{Line: lineNo, Seq: f.seq, Reason: fmt.Sprintf("hash chain broken: stated %x, computed %x", f.hash, want)}
				return
			}
		} else {
			v.firstLine = line
		}
		var err error
		lr.out, err = lr.appendLine(lr.out[:0], f.seq, f.appendTime, &f.hash, f.payload)
		if err != nil {
			c.err = &ExportError{Line: lineNo, Seq: f.seq, Reason: "undecodable sluicerecord: " + err.Error()}
			return
		}
		if !bytes.Equal(lr.out[:len(lr.out)-1], line) {
			c.err = &ExportError{Line: lineNo, Seq: f.seq, Reason: "attributes differ from the record (the line was edited)"}
			return
		}
		prev = f.hash
		v.count++
		v.lastSeq = f.seq
	}
	c.last = prev
}
