package journal

import (
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// baselineRenderer is the export renderer before the fixed attribute
// order (pipeline.AppendCloudEventJSON with the export attributes
// spliced in at their sorted places), kept as the benchmarks' baseline
// and as a reference: its lines hold the same attributes.
type baselineRenderer struct {
	ext map[string]string
	ev  pipeline.Event
	tmp []byte // the event rendered before splicing
}

// appendLine appends the export line of the record (seq, appendTime,
// hash, payload) to dst: the CloudEvents JSON of the decoded event with
// its sequence and the appendtime, chainhash, sluiceorigin and
// sluicerecord (base64 payload) extensions, and a newline. The line is a
// pure function of its inputs, which is what lets VerifyExport compare
// it byte for byte.
func (lr *baselineRenderer) appendLine(dst []byte, seq uint64, appendTime int64, hash *[32]byte, payload []byte) ([]byte, error) {
	if err := decodeEvent(payload, &lr.ev); err != nil {
		return dst, err
	}
	ev := &lr.ev
	defer func() { lr.ev = pipeline.Event{} }()
	if ev.Time.IsZero() && !ev.TimeGiven {
		ev.Time = time.Unix(0, appendTime).UTC()
	}
	ev.Sequence = seq
	if !baselinePlainASCII(ev.Origin) || baselineHasExportExtension(ev.Extensions) {
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
func (lr *baselineRenderer) appendLineSlow(dst []byte, appendTime int64, hash *[32]byte, payload []byte) []byte {
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

// baselinePlainASCII reports whether s needs no JSON escaping.
func baselinePlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func baselineHasExportExtension(ext map[string]string) bool {
	for _, k := range [...]string{extAppendTime, extChainHash, extOrigin, extRecord, "sequence"} {
		if _, ok := ext[k]; ok {
			return true
		}
	}
	return false
}
