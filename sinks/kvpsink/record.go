package kvpsink

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Pool file layout: fixed-size records, no header, no count
// (include/uapi/linux/hyperv.h, tools/hv/hv_kvp_daemon.c).
const (
	// KeySize is the size of a record's key field.
	KeySize = 512
	// ValueSize is the size of a record's value field.
	ValueSize = 2048
	// RecordSize is the size of one record.
	RecordSize = KeySize + ValueSize
)

// Record is one decoded pool file record.
type Record struct {
	Key   string
	Value string
}

var (
	// ErrPartialRecord is reported (wrapped) by DecodeRecords when the
	// input does not end on a record boundary. cloud-init and
	// hv_kvp_daemon ignore such a tail.
	ErrPartialRecord = errors.New("partial record at the end")
	// ErrInvalidUTF8 is reported (wrapped) by DecodeRecords for a field
	// that is not valid UTF-8; cloud-init's decoder raises
	// UnicodeDecodeError on it and the host fails the whole request.
	ErrInvalidUTF8 = errors.New("field is not valid UTF-8")
)

// appendRecord appends one record: key and value, each NUL-padded to its
// field. The caller guarantees they fit.
func appendRecord(dst, key, value []byte) []byte {
	dst = append(dst, key...)
	dst = append(dst, make([]byte, KeySize-len(key))...)
	dst = append(dst, value...)
	return append(dst, make([]byte, ValueSize-len(value))...)
}

// DecodeRecords decodes the records of a pool file as cloud-init's
// _decode_kvp_item does: each field is its bytes with NULs stripped at
// both ends. Every complete record is returned, in file order. The error
// joins every problem found: a field that is not valid UTF-8
// (ErrInvalidUTF8, the record is still returned with the raw bytes) and a
// trailing partial record (ErrPartialRecord, not returned).
func DecodeRecords(b []byte) ([]Record, error) {
	n := len(b) / RecordSize
	out := make([]Record, 0, n)
	var errs []error
	for i := range n {
		rec := b[i*RecordSize : (i+1)*RecordSize]
		k := bytes.Trim(rec[:KeySize], "\x00")
		v := bytes.Trim(rec[KeySize:], "\x00")
		if !utf8.Valid(k) {
			errs = append(errs, fmt.Errorf("record %d (offset %d): key: %w", i, i*RecordSize, ErrInvalidUTF8))
		}
		if !utf8.Valid(v) {
			errs = append(errs, fmt.Errorf("record %d (offset %d): value: %w", i, i*RecordSize, ErrInvalidUTF8))
		}
		out = append(out, Record{Key: string(k), Value: string(v)})
	}
	if rest := len(b) % RecordSize; rest != 0 {
		errs = append(errs, fmt.Errorf("%w: %d bytes after record %d", ErrPartialRecord, rest, n))
	}
	return out, errors.Join(errs...)
}
