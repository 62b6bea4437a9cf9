package journal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"time"
	"unsafe"

	"github.com/sluice-dev/sluice/pipeline"
)

// eventCodecVersion is the first byte of every encoded event.
const eventCodecVersion = 1

// Event encoding flags (second byte).
const (
	flagHasTime  = 1 << 0
	flagsDefined = flagHasTime
)

// MarshalEvent appends the binary encoding of e to dst and returns the
// extended slice. Event.Sequence is not encoded (the journal key holds it).
// A zero Event.Time is encoded as "no time" and read back as the record's
// append time, unless Event.TimeGiven says it is the zero instant. Extensions are written in key order, so equal events encode
// to equal bytes. The layout is described in the package documentation.
func MarshalEvent(dst []byte, e *pipeline.Event) []byte {
	return appendEvent(dst, e, nil)
}

// appendEvent is MarshalEvent; a non-nil id replaces e.ID (the journal
// fills IDs without allocating a string).
func appendEvent(dst []byte, e *pipeline.Event, id []byte) []byte {
	dst = slices.Grow(dst, eventSize(e)+len(id))
	var flags byte
	if !e.Time.IsZero() || e.TimeGiven {
		flags |= flagHasTime
	}
	dst = append(dst, eventCodecVersion, flags)
	if id != nil {
		dst = binary.AppendUvarint(dst, uint64(len(id)))
		dst = append(dst, id...)
	} else {
		dst = appendString(dst, e.ID)
	}
	dst = appendString(dst, e.Source)
	dst = appendString(dst, e.Type)
	dst = appendString(dst, e.Subject)
	if flags&flagHasTime != 0 {
		dst = binary.AppendVarint(dst, e.Time.Unix())
		dst = binary.AppendUvarint(dst, uint64(e.Time.Nanosecond()))
	}
	dst = appendString(dst, e.DataContentType)
	dst = appendString(dst, e.DataSchema)
	dst = append(dst, byte(e.Severity))
	dst = appendString(dst, e.TraceParent)
	dst = appendString(dst, e.Origin)
	dst = binary.AppendUvarint(dst, uint64(len(e.Extensions)))
	switch len(e.Extensions) {
	case 0:
	case 1:
		for k, v := range e.Extensions {
			dst = appendString(dst, k)
			dst = appendString(dst, v)
		}
	default:
		for _, k := range slices.Sorted(maps.Keys(e.Extensions)) {
			dst = appendString(dst, k)
			dst = appendString(dst, e.Extensions[k])
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Data)))
	return append(dst, e.Data...)
}

// eventSize returns an upper bound of e's encoded size.
func eventSize(e *pipeline.Event) int {
	const v = binary.MaxVarintLen64
	n := 2 + 9*v + 1 + 2*v + 1 // version, flags, 9 lengths, severity, time, ext count
	n += len(e.ID) + len(e.Source) + len(e.Type) + len(e.Subject) + len(e.DataContentType) +
		len(e.DataSchema) + len(e.TraceParent) + len(e.Origin) + len(e.Data) + v
	for k, val := range e.Extensions {
		n += 2*v + len(k) + len(val)
	}
	return n
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// UnmarshalEvent decodes an encoding made by MarshalEvent. The returned
// event owns its memory (nothing aliases b). Malformed input yields an error
// matching ErrMalformed, never a panic.
func UnmarshalEvent(b []byte) (pipeline.Event, error) {
	own := make([]byte, len(b))
	copy(own, b)
	var e pipeline.Event
	if err := decodeEvent(own, &e); err != nil {
		return pipeline.Event{}, err
	}
	return e, nil
}

// decodeEvent decodes b into e. Strings and Data alias b: the caller must
// own b and never modify it afterwards (or drop e before b is reused).
func decodeEvent(b []byte, e *pipeline.Event) error { return decodeEventShared(b, e, nil) }

// extCache lets consecutive events decoded by one reader share one
// Extensions map when their encoded extensions are byte for byte equal
// (events of one source usually carry the same ones): building a map is
// the largest part of decoding an event. Events must not modify their
// Extensions (pipeline.Event is a value), so sharing is invisible.
type extCache struct {
	raw []byte            // the encoded extensions (count and pairs) of m
	m   map[string]string // decoded from raw; nil when raw is empty
}

// decodeEventShared is decodeEvent; with ext non-nil, e.Extensions is the
// map of the previous event decoded with ext when the encodings are equal.
// raw aliases the previous event's (owned, immutable) input.
func decodeEventShared(b []byte, e *pipeline.Event, ext *extCache) error {
	d := decoder{b: b}
	if len(b) < 2 {
		return malformed("truncated header")
	}
	if b[0] != eventCodecVersion {
		return malformed(fmt.Sprintf("unknown version %d", b[0]))
	}
	flags := b[1]
	if flags&^flagsDefined != 0 {
		return malformed(fmt.Sprintf("unknown flags %#x", flags))
	}
	d.off = 2
	e.ID = d.string()
	e.Source = d.string()
	e.Type = d.string()
	e.Subject = d.string()
	e.Time, e.TimeGiven = time.Time{}, false
	if flags&flagHasTime != 0 {
		sec := d.varint()
		nsec := d.uvarint()
		if d.err == nil {
			if nsec >= 1e9 {
				return malformed("nanoseconds out of range")
			}
			e.Time = time.Unix(sec, int64(nsec)).UTC()
			e.TimeGiven = e.Time.IsZero()
		}
	}
	e.DataContentType = d.string()
	e.DataSchema = d.string()
	e.Severity = pipeline.Severity(int8(d.byte()))
	e.TraceParent = d.string()
	e.Origin = d.string()
	e.Extensions = nil
	if ext != nil && d.err == nil && len(ext.raw) > 0 && bytes.HasPrefix(b[d.off:], ext.raw) {
		// The encoding is self-delimiting: equal bytes decode to equal pairs.
		e.Extensions = ext.m
		d.off += len(ext.raw)
	} else {
		start := d.off
		d.extensions(e)
		if ext != nil && d.err == nil {
			ext.raw, ext.m = b[start:d.off:d.off], e.Extensions
		}
	}
	e.Data = d.bytes()
	if d.err != nil {
		return d.err
	}
	if d.off != len(b) {
		return malformed(fmt.Sprintf("%d trailing bytes", len(b)-d.off))
	}
	e.Sequence = 0
	return nil
}

// extensions decodes the extension count and pairs into e.Extensions.
func (d *decoder) extensions(e *pipeline.Event) {
	n := d.uvarint()
	if d.err == nil && n > 0 {
		// Every pair takes at least two bytes, which bounds the map's size
		// by the input's.
		if n > uint64(len(d.b)-d.off)/2 {
			d.err = malformed("extension count exceeds input")
			return
		}
		e.Extensions = make(map[string]string, int(n))
		for i := uint64(0); i < n && d.err == nil; i++ {
			k := d.string()
			v := d.string()
			if _, dup := e.Extensions[k]; dup && d.err == nil {
				d.err = malformed("duplicate extension " + k)
				return
			}
			e.Extensions[k] = v
		}
	}
}

func malformed(reason string) error { return fmt.Errorf("%w: %s", ErrMalformed, reason) }

// decoder reads the codec's primitives; the first error sticks and makes
// every later read return a zero value.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(reason string) {
	if d.err == nil {
		d.err = malformed(fmt.Sprintf("%s at offset %d", reason, d.off))
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail("truncated")
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

// bytes returns a length-prefixed field aliasing the input, nil when empty.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail("length exceeds input")
		return nil
	}
	if n == 0 {
		return nil
	}
	end := d.off + int(n)
	v := d.b[d.off:end:end]
	d.off = end
	return v
}

// string returns a length-prefixed field as a string aliasing the input.
func (d *decoder) string() string {
	v := d.bytes()
	if len(v) == 0 {
		return ""
	}
	return unsafe.String(&v[0], len(v))
}
