package journal

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// Record value layout (see doc.go):
//
//	[0]      version (recordVersion)
//	[1:5]    CRC32C (Castagnoli), big-endian, over value[5:] then the 8-byte key
//	[5:13]   append time, unix nanoseconds, big-endian
//	[13:45]  chain hash SHA-256(prev hash || seq || append time || payload)
//	[45:]    payload: the event encoding (codec.go)
const (
	recordVersion    = 1
	offCRC           = 1
	offTime          = 5
	offHash          = 13
	recordHeaderSize = 45
	keySize          = 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// seqKey returns the bbolt key of seq.
func seqKey(seq uint64) []byte {
	k := make([]byte, keySize)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// keySeq decodes a key; ok is false for a malformed one.
func keySeq(k []byte) (uint64, bool) {
	if len(k) != keySize {
		return 0, false
	}
	return binary.BigEndian.Uint64(k), true
}

// chainer computes chain hashes and seals records; one per goroutine.
type chainer struct {
	h       hash.Hash
	scratch [16]byte
	want    [32]byte
}

func newChainer() *chainer { return &chainer{h: sha256.New()} }

// sum writes SHA-256(prev || seq || t || payload) into out.
func (c *chainer) sum(out []byte, prev *[32]byte, seq uint64, t int64, payload []byte) {
	c.h.Reset()
	c.h.Write(prev[:])
	binary.BigEndian.PutUint64(c.scratch[0:8], seq)
	binary.BigEndian.PutUint64(c.scratch[8:16], uint64(t))
	c.h.Write(c.scratch[:])
	c.h.Write(payload)
	c.h.Sum(out[:0])
}

// seal fills the header of v (whose payload is already in place) for seq at
// time t after the record whose hash is prev, and sets prev to v's hash.
func (c *chainer) seal(v []byte, seq uint64, t int64, prev *[32]byte) {
	v[0] = recordVersion
	binary.BigEndian.PutUint64(v[offTime:], uint64(t))
	c.sum(v[offHash:offHash+32], prev, seq, t, v[recordHeaderSize:])
	copy(prev[:], v[offHash:offHash+32])
	binary.BigEndian.PutUint32(v[offCRC:], recordCRC(seq, v))
}

// recordCRC returns the CRC32C of v[5:] followed by seq's key bytes. The
// key bytes are folded in by hand: passing a local array to crc32.Update
// would move it to the heap on every record.
func recordCRC(seq uint64, v []byte) uint32 {
	crc := ^crc32.Update(0, castagnoli, v[offTime:])
	for shift := 56; shift >= 0; shift -= 8 {
		crc = castagnoli[byte(crc)^byte(seq>>shift)] ^ (crc >> 8)
	}
	return ^crc
}

// checkRecord verifies v's framing and CRC (not its chain link).
func checkRecord(seq uint64, v []byte) error {
	if len(v) < recordHeaderSize {
		return fmt.Errorf("record too short: %d bytes", len(v))
	}
	if v[0] != recordVersion {
		return fmt.Errorf("unknown record version %d", v[0])
	}
	if got, want := recordCRC(seq, v), binary.BigEndian.Uint32(v[offCRC:]); got != want {
		return fmt.Errorf("crc mismatch: stored %08x, computed %08x", want, got)
	}
	return nil
}

// checkLink verifies that v's stored hash chains from prev.
func (c *chainer) checkLink(seq uint64, v []byte, prev *[32]byte) error {
	c.sum(c.want[:], prev, seq, recordTime(v), v[recordHeaderSize:])
	if [32]byte(v[offHash:offHash+32]) != c.want {
		return fmt.Errorf("hash chain broken: stored %x, computed %x", v[offHash:offHash+32], c.want)
	}
	return nil
}

func recordTime(v []byte) int64 { return int64(binary.BigEndian.Uint64(v[offTime:])) }

func recordHash(v []byte) [32]byte { return [32]byte(v[offHash : offHash+32]) }

// decodeRecord checks v's CRC and returns it as a Record that owns its
// memory: one allocation holds the payload, and the event's strings and
// Data alias it (strings are never modified; Data may be by the caller
// without affecting the strings). v itself may be bbolt memory. A non-nil
// ext shares Extensions maps between consecutive records (decodeEventShared).
func decodeRecord(seq uint64, v []byte, ext *extCache) (pipeline.Record, error) {
	if err := checkRecord(seq, v); err != nil {
		return pipeline.Record{}, err
	}
	own := make([]byte, len(v)-recordHeaderSize)
	copy(own, v[recordHeaderSize:])
	r := pipeline.Record{
		Seq:        seq,
		AppendTime: time.Unix(0, recordTime(v)).UTC(),
		Hash:       recordHash(v),
		Size:       keySize + len(v),
	}
	if err := decodeEventShared(own, &r.Event, ext); err != nil {
		return pipeline.Record{}, err
	}
	if r.Event.Time.IsZero() && !r.Event.TimeGiven {
		r.Event.Time = r.AppendTime
	}
	r.Event.Sequence = seq
	return r, nil
}

// validatePayload decodes v's payload without retaining anything.
func validatePayload(v []byte) error {
	var e pipeline.Event
	return decodeEvent(v[recordHeaderSize:], &e)
}
