package lbworkersource

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func resPacket(typ uint32, data []byte) []byte {
	b := append([]byte{}, magicRes[:]...)
	b = binary.BigEndian.AppendUint32(b, typ)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data))) //nolint:gosec // test sizes are small
	return append(b, data...)
}

// TestWritePacketBytes: the reference's CAN_DO and WORK_COMPLETE frames
// (PROTOCOLS-M2.md §2.1), byte for byte.
func TestWritePacketBytes(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	require.NoError(t, writePacket(w, pktCanDo, []byte("lb-7f3c")))
	require.NoError(t, writePacket(w, pktWorkComplete, []byte("H:gw:42"), []byte(`{"hpcs_response":"PASS"}`)))
	want := "\x00REQ\x00\x00\x00\x01\x00\x00\x00\x07lb-7f3c" +
		"\x00REQ\x00\x00\x00\x0d\x00\x00\x00\x20H:gw:42\x00{\"hpcs_response\":\"PASS\"}"
	assert.Equal(t, want, buf.String())
}

func TestReadJobAssignUniq(t *testing.T) {
	t.Parallel()
	r := bufio.NewReader(bytes.NewReader(resPacket(pktJobAssignUniq, []byte("H:vm:2\x00rawfn\x00uniq-complete\x00{\"hpcs_action\":\"DISCOVER\"}"))))
	p, err := readPacket(r, 1<<20)
	require.NoError(t, err)
	j, err := parseJobAssign(p)
	require.NoError(t, err)
	assert.Equal(t, "H:vm:2", string(j.handle))
	assert.Equal(t, "rawfn", string(j.function))
	assert.Equal(t, "uniq-complete", string(j.unique))
	assert.JSONEq(t, `{"hpcs_action":"DISCOVER"}`, string(j.data))

	// An oversized job keeps its head and is skipped past; the next packet
	// still parses.
	big := append([]byte("H:vm:3\x00fn\x00u\x00"), bytes.Repeat([]byte("x"), 5000)...)
	r = bufio.NewReader(bytes.NewReader(append(resPacket(pktJobAssignUniq, big), resPacket(pktNoop, nil)...)))
	p, err = readPacket(r, 100)
	require.NoError(t, err)
	j, err = parseJobAssign(p)
	require.NoError(t, err)
	assert.Equal(t, "H:vm:3", string(j.handle))
	assert.Equal(t, len(big), j.oversize)
	assert.Nil(t, j.data)
	p, err = readPacket(r, 100)
	require.NoError(t, err)
	assert.Equal(t, pktNoop, p.typ)
}

// FuzzReadPacket: whatever a server sends, reading never panics.
func FuzzReadPacket(f *testing.F) {
	f.Add(resPacket(pktJobAssignUniq, []byte("H:1\x00f\x00u\x00{}")))
	f.Add(resPacket(pktJobAssign, []byte("H:1\x00f\x00data")))
	f.Add(resPacket(pktNoJob, nil))
	f.Add([]byte("\x00RES\x00\x00\x00\x1f\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		for range 4 {
			p, err := readPacket(r, 64)
			if err != nil {
				return
			}
			if p.typ == pktJobAssign || p.typ == pktJobAssignUniq {
				if j, err := parseJobAssign(p); err == nil && len(j.handle) == 0 {
					t.Fatal("job without a handle accepted")
				}
			}
		}
	})
}
