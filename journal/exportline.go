package journal

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// Extension attributes an export line adds to each event (see doc.go,
// Export and verify).
const (
	extAppendTime = "appendtime"
	extChainHash  = "chainhash"
	extOrigin     = "sluiceorigin"
	extRecord     = "sluicerecord"
)

// lineRenderer renders export lines; one per goroutine, reused.
type lineRenderer struct {
	ext     map[string]string
	ev      pipeline.Event
	tmp     []byte // the event rendered before splicing
	scratch []byte // decoded payloads (verification)
	out     []byte // re-rendered lines (verification)
}

// appendLine appends the export line of the record (seq, appendTime,
// hash, payload) to dst: the CloudEvents JSON of the decoded event with
// its sequence and the appendtime, chainhash, sluiceorigin and
// sluicerecord (base64 payload) extensions, and a newline. The line is a
// pure function of its inputs, which is what lets VerifyExport compare
// it byte for byte.
func (lr *lineRenderer) appendLine(dst []byte, seq uint64, appendTime int64, hash *[32]byte, payload []byte) ([]byte, error) {
	if err := decodeEvent(payload, &lr.ev); err != nil {
		return dst, err
	}
	ev := &lr.ev
	defer func() { lr.ev = pipeline.Event{} }()
	if ev.Time.IsZero() {
		ev.Time = time.Unix(0, appendTime).UTC()
	}
	ev.Sequence = seq
	if !plainASCII(ev.Origin) || hasExportExtension(ev.Extensions) {
		return lr.appendLineSlow(dst, appendTime, hash, payload), nil
	}
	// Render the event, then splice the four attributes in at their
	// sorted places: the same bytes as adding them to Extensions, without
	// copying the map or building their strings.
	lr.tmp = pipeline.AppendCloudEventJSON(lr.tmp[:0], ev)
	added := [4]string{extAppendTime, extChainHash, extOrigin, extRecord}
	next := 0
	emit := func(dst []byte, upTo string) []byte {
		for ; next < len(added) && (upTo == "" || added[next] < upTo); next++ {
			if added[next] == extOrigin && ev.Origin == "" {
				continue
			}
			if dst[len(dst)-1] != '{' {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = append(dst, added[next]...)
			dst = append(dst, '"', ':', '"')
			switch added[next] {
			case extAppendTime:
				dst = time.Unix(0, appendTime).UTC().AppendFormat(dst, time.RFC3339Nano)
			case extChainHash:
				dst = hex.AppendEncode(dst, hash[:])
			case extOrigin:
				dst = append(dst, ev.Origin...)
			case extRecord:
				dst = base64.StdEncoding.AppendEncode(dst, payload)
			}
			dst = append(dst, '"')
		}
		return dst
	}
	dst = append(dst, '{')
	err := topLevelMembers(lr.tmp, func(key, member []byte) {
		dst = emit(dst, string(key))
		if dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
		dst = append(dst, member...)
	})
	if err != nil {
		return dst, err // unreachable: AppendCloudEventJSON writes an object
	}
	dst = emit(dst, "")
	return append(dst, '}', '\n'), nil
}

// appendLineSlow renders through a copy of the extensions, for events
// whose origin needs escaping or that carry an attribute export sets.
func (lr *lineRenderer) appendLineSlow(dst []byte, appendTime int64, hash *[32]byte, payload []byte) []byte {
	ev := &lr.ev
	if lr.ext == nil {
		lr.ext = make(map[string]string, len(ev.Extensions)+4)
	}
	clear(lr.ext)
	for k, v := range ev.Extensions {
		lr.ext[k] = v
	}
	var buf [64]byte
	lr.ext[extAppendTime] = string(time.Unix(0, appendTime).UTC().AppendFormat(buf[:0], time.RFC3339Nano))
	lr.ext[extChainHash] = hex.EncodeToString(hash[:])
	if ev.Origin != "" {
		lr.ext[extOrigin] = ev.Origin
	} else {
		delete(lr.ext, extOrigin)
	}
	lr.ext[extRecord] = base64.StdEncoding.EncodeToString(payload)
	ev.Extensions = lr.ext
	dst = pipeline.AppendCloudEventJSON(dst, ev)
	return append(dst, '\n')
}

// plainASCII reports whether s needs no JSON escaping.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func hasExportExtension(ext map[string]string) bool {
	for _, k := range [...]string{extAppendTime, extChainHash, extOrigin, extRecord, "sequence"} {
		if _, ok := ext[k]; ok {
			return true
		}
	}
	return false
}

// lineFields are the top-level attributes VerifyExport reads from a line.
type lineFields struct {
	seq        uint64
	appendTime int64
	hash       [32]byte
	payload    []byte
}

var errLineSyntax = errors.New("not a JSON object")

// parseLine extracts the sequence, appendtime, chainhash and sluicerecord
// attributes from an export line, walking only the top level of the JSON
// object (nested data is skipped, so a key inside data cannot be taken
// for an attribute). scratch receives the decoded payload.
func parseLine(line []byte, scratch []byte) (lineFields, []byte, error) {
	var f lineFields
	var seqS, timeS, hashS, recS []byte
	err := topLevelStrings(line, func(key, val []byte) {
		switch string(key) {
		case "sequence":
			seqS = val
		case extAppendTime:
			timeS = val
		case extChainHash:
			hashS = val
		case extRecord:
			recS = val
		}
	})
	if err != nil {
		return f, scratch, err
	}
	switch {
	case seqS == nil:
		return f, scratch, errors.New("no sequence attribute")
	case timeS == nil:
		return f, scratch, errors.New("no appendtime attribute")
	case hashS == nil:
		return f, scratch, errors.New("no chainhash attribute")
	case recS == nil:
		return f, scratch, errors.New("no sluicerecord attribute")
	}
	if f.seq, err = strconv.ParseUint(string(seqS), 10, 64); err != nil || f.seq == 0 {
		return f, scratch, errors.New("bad sequence attribute")
	}
	t, err := time.Parse(time.RFC3339Nano, string(timeS))
	if err != nil {
		return f, scratch, errors.New("bad appendtime attribute")
	}
	f.appendTime = t.UnixNano()
	if len(hashS) != 64 {
		return f, scratch, errors.New("bad chainhash attribute")
	}
	if _, err := hex.Decode(f.hash[:], hashS); err != nil {
		return f, scratch, errors.New("bad chainhash attribute")
	}
	scratch = scratch[:0]
	if scratch, err = base64.StdEncoding.AppendDecode(scratch, recS); err != nil {
		return f, scratch, errors.New("bad sluicerecord attribute")
	}
	f.payload = scratch
	return f, scratch, nil
}

// topLevelMembers calls fn for each top-level member of the JSON object
// in line with its raw key and the member's whole text ("key":value).
func topLevelMembers(line []byte, fn func(key, member []byte)) error {
	return walkTopLevel(line, func(key []byte, start, _, end int) {
		fn(key, line[start:end])
	})
}

// topLevelStrings calls fn for each top-level member of the JSON object
// in line whose value is a string without escapes (the attributes export
// writes never need them), with the raw key and value. Other values are
// skipped. It checks the structure only as far as walking it needs; the
// caller compares the whole line with its re-rendering anyway.
func topLevelStrings(line []byte, fn func(key, val []byte)) error {
	return walkTopLevel(line, func(key []byte, _, valStart, end int) {
		if line[valStart] != '"' {
			return
		}
		if _, plain := scanString(line, valStart); plain {
			fn(key, line[valStart+1:end-1])
		}
	})
}

// walkTopLevel calls fn for each top-level member of the JSON object in
// line with its raw key and the offsets of the member's start (its key's
// opening quote), its value's start and its end.
func walkTopLevel(line []byte, fn func(key []byte, start, valStart, end int)) error {
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return errLineSyntax
	}
	i++
	for {
		i = skipSpace(line, i)
		if i < len(line) && line[i] == '}' {
			return nil
		}
		if i >= len(line) || line[i] != '"' {
			return errLineSyntax
		}
		start := i
		kEnd, _ := scanString(line, i)
		if kEnd < 0 {
			return errLineSyntax
		}
		key := line[i+1 : kEnd-1]
		i = skipSpace(line, kEnd)
		if i >= len(line) || line[i] != ':' {
			return errLineSyntax
		}
		i = skipSpace(line, i+1)
		if i >= len(line) {
			return errLineSyntax
		}
		var end int
		if line[i] == '"' {
			end, _ = scanString(line, i)
		} else {
			end = skipValue(line, i)
		}
		if end < 0 {
			return errLineSyntax
		}
		fn(key, start, i, end)
		i = skipSpace(line, end)
		if i < len(line) && line[i] == ',' {
			i++
			continue
		}
		if i < len(line) && line[i] == '}' {
			return nil
		}
		return errLineSyntax
	}
}

// scanString returns the index after the string starting at line[i] (a
// quote), or -1, and whether it holds no escape.
func scanString(line []byte, i int) (int, bool) {
	plain := true
	for j := i + 1; j < len(line); j++ {
		switch line[j] {
		case '\\':
			plain = false
			j++
		case '"':
			return j + 1, plain
		}
	}
	return -1, false
}

// skipValue returns the index after the non-string value at line[i]: an
// object or array (brackets counted outside strings) or a literal.
func skipValue(line []byte, i int) int {
	depth := 0
	for j := i; j < len(line); j++ {
		switch c := line[j]; c {
		case '"':
			end, _ := scanString(line, j)
			if end < 0 {
				return -1
			}
			j = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return j
			}
			depth--
			if depth == 0 {
				return j + 1
			}
		case ',':
			if depth == 0 {
				return j
			}
		}
	}
	if depth == 0 {
		return len(line)
	}
	return -1
}

func skipSpace(line []byte, i int) int {
	for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n') {
		i++
	}
	return i
}
