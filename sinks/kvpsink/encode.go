package kvpsink

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Mode selects the limits records are written within.
type Mode string

const (
	// ModeHostSafe (the default) keeps every key within 254 bytes and every
	// value within 1022, what the kernel passes on to the host, and never
	// cuts a slice inside a JSON escape, so each slice is valid JSON. It
	// slices a value longer than 1022 bytes.
	ModeHostSafe Mode = "host-safe"
	// ModeCloudInit writes exactly what cloud-init 22.4 writes: a value is
	// sliced only when longer than 1024 bytes, and slices are cut at
	// cloud-init's byte positions, even inside an escape. Keys may use the
	// whole 512-byte field.
	ModeCloudInit Mode = "cloud-init"
)

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Mode) UnmarshalText(b []byte) error {
	switch v := Mode(b); v {
	case ModeHostSafe, ModeCloudInit:
		*m = v
		return nil
	}
	return fmt.Errorf("unknown mode %q (want %s or %s)", b, ModeHostSafe, ModeCloudInit)
}

// MarshalText implements encoding.TextMarshaler.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m), nil }

// Limits. The caps on type, name and result keep the metadata of a value
// well under a slice's 1016 bytes, so slicing always makes progress (the
// cloud-init bug of looping forever on a long name cannot happen).
const (
	// HostMaxKey and HostMaxValue are the longest key and value the kernel
	// passes to the host: (512/2)-2 and (2048/2)-2 UTF-16 units
	// (drivers/hv/hv_kvp.c); bytes never undercount UTF-16 units.
	HostMaxKey   = 254
	HostMaxValue = 1022
	// cloudInitMaxValue is cloud-init's HV_KVP_AZURE_MAX_VALUE_SIZE: a value
	// longer than this is sliced.
	cloudInitMaxValue = 1024
	// sliceMaxValue is the longest slice value: cloud-init leaves 8 bytes
	// spare (room = 1024 - len(metadata) - 8).
	sliceMaxValue = cloudInitMaxValue - 8

	// MaxPrefixBytes is the longest key prefix.
	MaxPrefixBytes = 32
	// MaxTypeBytes caps the type in the key; escaped in the value, it is
	// also kept within 128 bytes.
	MaxTypeBytes = 64
	maxTypeJSON  = 128
	// MaxNameJSON caps the escaped name in the value; the raw name is also
	// cut to fit the key.
	MaxNameJSON = 256
	// MaxResultJSON caps the escaped result.
	MaxResultJSON = 64
	// MaxMessageLimit is the largest message cap, in escaped bytes of msg.
	MaxMessageLimit = 1 << 20
	// DefaultMaxMessage is the default message cap.
	DefaultMaxMessage = 16 << 10
	// uuidLen is the length of the key's uuid field.
	uuidLen = 36
	// sliceSuffixReserve is the key room kept for "|<slice index>":
	// MaxMessageLimit bytes never make 10000 slices.
	sliceSuffixReserve = 5
)

// Report is one KVP event, what cloud-init calls a reporting event.
type Report struct {
	// Type is the event type ("start", "finish", "diagnostic", …). In the
	// key, '|' becomes '_'.
	Type string
	// Name is the event name (cloud-init's reporting stack path).
	Name string
	// Time is when it happened; the "ts" field.
	Time time.Time
	// Result is "SUCCESS", "WARN", "FAIL" or anything else; empty leaves
	// the field out.
	Result string
	// Msg is the description.
	Msg string
}

// Encoder turns reports into pool records in cloud-init's format:
//
//	key   PREFIX|INCARNATION|TYPE|NAME|UUID[|SLICE]
//	value {"name":…,"type":…,"ts":…[,"result":…][,"msg_i":SLICE],"msg":…}
//
// Strings are cleaned and capped before encoding (see Append). The zero
// Encoder is host-safe, with an empty prefix, incarnation 0 and the
// default message cap.
type Encoder struct {
	// Prefix is the key's first field (cloud-init: "CLOUD_INIT").
	Prefix string
	// Incarnation is the boot time in epoch seconds, the key's second
	// field (cloud-init: int(time.time() - uptime)).
	Incarnation int64
	// Mode selects the limits; empty means ModeHostSafe.
	Mode Mode
	// MaxMessage caps the escaped msg, in bytes; 0 means
	// DefaultMaxMessage, and values above MaxMessageLimit count as that.
	MaxMessage int

	// scratch holds the escaped msg between calls.
	scratch []byte
}

// Encoded tells what Append did with one report.
type Encoded struct {
	// Records is how many records were appended.
	Records int
	// Truncated names the fields that were cut to fit ("type", "name",
	// "result", "msg"), in that order.
	Truncated []string
}

// Append appends the records of r to dst, with id as the key's uuid, and
// returns the extended buffer.
//
// Before encoding, type and name are cleaned for the key: invalid UTF-8
// and NUL become U+FFFD (cloud-init and the host cannot read them), and
// '|' in the type becomes '_'. Invalid UTF-8 in result and msg becomes
// U+FFFD too. Then each string is cut, at a character boundary, to its
// cap: type to MaxTypeBytes (128 escaped), name to MaxNameJSON escaped and
// to what fits the key, result to MaxResultJSON escaped, msg to MaxMessage
// escaped (between escapes). Within those caps, ModeCloudInit writes byte
// for byte what cloud-init 22.4 writes for the same event, uuid and time.
func (e *Encoder) Append(dst []byte, r *Report, id [16]byte) ([]byte, Encoded) {
	var info Encoded
	maxKey, maxValue := HostMaxKey, HostMaxValue
	if e.Mode == ModeCloudInit {
		maxKey, maxValue = KeySize, cloudInitMaxValue
	}
	prefix, _ := capString(cleanKeyField(e.Prefix, true), MaxPrefixBytes, MaxPrefixBytes)
	typ, cut := capString(cleanKeyField(r.Type, true), MaxTypeBytes, maxTypeJSON)
	if cut {
		info.Truncated = append(info.Truncated, "type")
	}

	// key = prefix|incarnation|type|name|uuid[|i]
	var keyBuf [KeySize]byte
	key := append(keyBuf[:0], prefix...)
	key = append(key, '|')
	key = strconv.AppendInt(key, e.Incarnation, 10)
	key = append(key, '|')
	key = append(key, typ...)
	key = append(key, '|')
	nameRoom := maxKey - len(key) - 1 - uuidLen - sliceSuffixReserve
	name, cut := capString(cleanKeyField(r.Name, false), nameRoom, MaxNameJSON)
	if cut {
		info.Truncated = append(info.Truncated, "name")
	}
	key = append(key, name...)
	key = append(key, '|')
	key = appendUUID(key, id)

	result, cut := capString(cleanText(r.Result), math.MaxInt, MaxResultJSON)
	if cut {
		info.Truncated = append(info.Truncated, "result")
	}
	maxMsg := e.MaxMessage
	if maxMsg <= 0 {
		maxMsg = DefaultMaxMessage
	}
	maxMsg = min(maxMsg, MaxMessageLimit)

	// Metadata up to "msg": {"name":…,"type":…,"ts":…[,"result":…]
	var metaBuf [1024]byte
	meta := append(metaBuf[:0], `{"name":`...)
	meta = appendPyJSONString(meta, name)
	meta = append(meta, `,"type":`...)
	meta = appendPyJSONString(meta, typ)
	meta = append(meta, `,"ts":"`...)
	meta = appendTimestamp(meta, r.Time)
	meta = append(meta, '"')
	if result != "" {
		meta = append(meta, `,"result":`...)
		meta = appendPyJSONString(meta, result)
	}

	// des is the escaped msg, capped between escapes.
	msg := r.Msg
	if pyJSONLenExceeds(msg, maxMsg) {
		msg, _ = capString(msg, math.MaxInt, maxMsg)
		info.Truncated = append(info.Truncated, "msg")
	}
	e.scratch = appendPyJSONContent(e.scratch[:0], msg)
	des := e.scratch

	// Unsliced: meta,"msg":"des"}
	if len(meta)+len(`,"msg":""}`)+len(des) <= maxValue {
		var valBuf [cloudInitMaxValue]byte
		val := append(valBuf[:0], meta...)
		val = append(val, `,"msg":"`...)
		val = append(val, des...)
		val = append(val, '"', '}')
		info.Records = 1
		return appendRecord(dst, key, val), info
	}

	// Sliced, as cloud-init's _break_down: the metadata with "msg_i":i and
	// an empty "msg", then as much of des as fits in 1016 bytes.
	for i := 0; ; i++ {
		var valBuf [cloudInitMaxValue]byte
		val := append(valBuf[:0], meta...)
		val = append(val, `,"msg_i":`...)
		val = strconv.AppendInt(val, int64(i), 10)
		val = append(val, `,"msg":"`...)
		room := sliceMaxValue - (len(val) + 2)
		n := min(room, len(des))
		if e.Mode != ModeCloudInit {
			n = escapeBoundary(des, room)
		}
		val = append(val, des[:n]...)
		val = append(val, '"', '}')
		var skBuf [KeySize]byte
		sk := append(skBuf[:0], key...)
		sk = append(sk, '|')
		sk = strconv.AppendInt(sk, int64(i), 10)
		dst = appendRecord(dst, sk, val)
		info.Records++
		des = des[n:]
		if len(des) == 0 {
			return dst, info
		}
	}
}

// escapeBoundary returns the largest n ≤ room such that des[:n] ends
// between two escapes (and not inside a surrogate pair), for des written
// by appendPyJSONContent.
func escapeBoundary(des []byte, room int) int {
	if room >= len(des) {
		return len(des)
	}
	p := 0
	for {
		j := bytes.IndexByte(des[p:], '\\')
		if j < 0 || p+j >= room {
			return room
		}
		p += j
		tok := 2
		if des[p+1] == 'u' {
			tok = 6
			if isHighSurrogateEscape(des[p:]) && p+12 <= len(des) {
				tok = 12
			}
		}
		if p+tok > room {
			return p
		}
		p += tok
	}
}

// isHighSurrogateEscape reports whether b starts with \uD800-\uDBFF.
func isHighSurrogateEscape(b []byte) bool {
	return len(b) >= 6 && b[2] == 'd' && b[3] >= '8' && b[3] <= 'b'
}

// appendUUID appends id as 8-4-4-4-12 lower-case hex.
func appendUUID(dst []byte, id [16]byte) []byte {
	var buf [36]byte
	hex.Encode(buf[0:8], id[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], id[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], id[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], id[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:36], id[10:16])
	return append(dst, buf[:]...)
}

// cleanKeyField replaces invalid UTF-8 and NUL with U+FFFD and, for the
// type and prefix, '|' with '_', so that the key stays readable and
// splittable. It returns s itself when nothing changes.
func cleanKeyField(s string, noBar bool) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 || c >= utf8.RuneSelf || (noBar && c == '|') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == 0:
			r = utf8.RuneError
		case noBar && r == '|':
			r = '_'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cleanText replaces invalid UTF-8 with U+FFFD, one per bad byte, as
// the encoder's escaping does.
func cleanText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// capString cuts s at a character boundary so that its UTF-8 length is at
// most maxRaw and its escaped length at most maxJSON. Invalid UTF-8 counts
// (and is kept) as one U+FFFD per byte. It reports whether s was cut.
func capString(s string, maxRaw, maxJSON int) (string, bool) {
	// A byte never costs more than 6 escaped bytes.
	if len(s) <= maxRaw && len(s)*6 <= maxJSON {
		return s, false
	}
	raw, js := 0, 0
	for i, r := range s {
		_, size := utf8.DecodeRuneInString(s[i:])
		n := pyEscapedLen(r)
		if raw+size > maxRaw || js+n > maxJSON {
			return s[:i], true
		}
		raw += size
		js += n
	}
	return s, false
}

// pyJSONLenExceeds reports whether pyJSONLen(s) > limit, stopping early.
func pyJSONLenExceeds(s string, limit int) bool {
	if len(s)*6 <= limit {
		return false
	}
	n := 0
	for _, r := range s {
		n += pyEscapedLen(r)
		if n > limit {
			return true
		}
	}
	return false
}
