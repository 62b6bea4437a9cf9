package journal

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
	"unsafe"
)

// parseLineFast extracts the attributes VerifyExport needs from a line in
// the layout appendLine writes (prefix attributes first, sluicerecord
// last) without walking the JSON; it reports false for anything else,
// and the caller falls back to parseLine. Whatever it extracts is only
// trusted once the line equals its re-rendering.
func parseLineFast(line []byte, scratch []byte) (lineFields, []byte, bool) {
	f, ok := parseLinePrefix(line)
	if !ok {
		return f, scratch, false
	}
	// sluicerecord is last: base64 holds no quote.
	if len(line) < 2 || line[len(line)-1] != '}' || line[len(line)-2] != '"' {
		return f, scratch, false
	}
	body := line[:len(line)-2]
	q := bytes.LastIndexByte(body, '"')
	if q < 0 || !hasSuffix(body[:q+1], lineRecord) {
		return f, scratch, false
	}
	var err error
	scratch, err = base64.StdEncoding.AppendDecode(scratch[:0], body[q+1:])
	if err != nil {
		return f, scratch, false
	}
	f.payload = scratch
	return f, scratch, true
}

// parseLinePrefix reads the sequence, appendtime and chainhash at the
// start of a line in appendLine's layout.
func parseLinePrefix(line []byte) (lineFields, bool) {
	var f lineFields
	rest, ok := cutPrefix(line, linePrefix)
	if !ok {
		return f, false
	}
	i := 0
	for i < len(rest) && i < 20 && rest[i] >= '0' && rest[i] <= '9' {
		f.seq = f.seq*10 + uint64(rest[i]-'0')
		i++
	}
	if i == 0 || i > 19 || f.seq == 0 {
		return f, false
	}
	if rest, ok = cutPrefix(rest[i:], lineAppendTime); !ok {
		return f, false
	}
	q := bytes.IndexByte(rest, '"')
	if q <= 0 {
		return f, false
	}
	t, err := time.Parse(time.RFC3339Nano, unsafe.String(&rest[0], q))
	if err != nil {
		return f, false
	}
	f.appendTime = t.UnixNano()
	if rest, ok = cutPrefix(rest[q:], lineChainHash); !ok || len(rest) < 65 || rest[64] != '"' {
		return f, false
	}
	if _, err := hex.Decode(f.hash[:], rest[:64]); err != nil {
		return f, false
	}
	return f, true
}

func cutPrefix(b []byte, p string) ([]byte, bool) {
	if len(b) < len(p) || string(b[:len(p)]) != p {
		return b, false
	}
	return b[len(p):], true
}

func hasSuffix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[len(b)-len(s):]) == s
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
