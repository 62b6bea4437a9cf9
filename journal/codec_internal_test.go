package journal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

func sampleEvent() pipeline.Event {
	return pipeline.Event{
		ID: "0190a0b0-0000-7000-8000-000000000001", Source: "/sluice/probe", Type: "sluice.probe.state",
		Subject: "vm-1", Time: time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC),
		DataContentType: "application/json", DataSchema: "s", Data: []byte(`{"up":true}`),
		Severity: pipeline.SeverityWarning, TraceParent: "00-abc-def-01",
		Extensions: map[string]string{"b": "2", "a": "1", "c": ""},
	}
}

func TestEventCodecRoundTrip(t *testing.T) {
	t.Parallel()
	cases := map[string]pipeline.Event{
		"full":          sampleEvent(),
		"zero":          {},
		"negative time": {Time: time.Date(1960, 1, 1, 0, 0, 0, 1, time.UTC), Severity: pipeline.SeverityDebug},
		"one extension": {Extensions: map[string]string{"x": "y"}},
		"zero instant":  {ID: "z", TimeGiven: true},
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := MarshalEvent(nil, &e)
			require.LessOrEqual(t, len(b), eventSize(&e))
			got, err := UnmarshalEvent(b)
			require.NoError(t, err)
			require.Equal(t, e, got)
			require.Equal(t, b, MarshalEvent(nil, &got), "encoding is deterministic")
		})
	}
}

func TestEventCodecRejectsMalformed(t *testing.T) {
	t.Parallel()
	e := sampleEvent()
	good := MarshalEvent(nil, &e)
	cases := map[string][]byte{
		"empty":          nil,
		"bad version":    append([]byte{9}, good[1:]...),
		"unknown flag":   append([]byte{1, 0x80}, good[2:]...),
		"truncated":      good[:len(good)-1],
		"trailing":       append(append([]byte(nil), good...), 0),
		"huge length":    {1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"huge ext count": {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f},
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := UnmarshalEvent(b)
			require.ErrorIs(t, err, ErrMalformed)
		})
	}
}

func FuzzEventCodec(f *testing.F) {
	e := sampleEvent()
	f.Add(MarshalEvent(nil, &e))
	f.Add(MarshalEvent(nil, &pipeline.Event{}))
	f.Add([]byte{1, 1, 0, 0, 0, 0, 0x80, 0x80, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		e1, err := UnmarshalEvent(b)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		b2 := MarshalEvent(nil, &e1)
		e2, err := UnmarshalEvent(b2)
		require.NoError(t, err)
		require.Equal(t, e1, e2)
		require.Equal(t, b2, MarshalEvent(nil, &e2))
	})
}

// FuzzRecordCodec seals arbitrary payloads into records and checks that
// decoding returns them, and that arbitrary record bytes never panic.
func FuzzRecordCodec(f *testing.F) {
	e := sampleEvent()
	f.Add(uint64(1), int64(1700000000000000000), MarshalEvent(nil, &e), []byte{})
	f.Add(uint64(1<<40), int64(0), []byte{1, 0}, []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, seq uint64, at int64, payload, garbage []byte) {
		_, _ = decodeRecord(seq, garbage, nil) // must not panic
		if _, err := UnmarshalEvent(payload); err != nil {
			return
		}
		v := make([]byte, recordHeaderSize+len(payload))
		copy(v[recordHeaderSize:], payload)
		var prev [32]byte
		c := newChainer()
		c.seal(v, seq, at, &prev)
		r, err := decodeRecord(seq, v, nil)
		require.NoError(t, err)
		require.Equal(t, seq, r.Seq)
		require.Equal(t, at, r.AppendTime.UnixNano())
		require.Equal(t, prev, r.Hash)
		var zero [32]byte
		require.NoError(t, c.checkLink(seq, v, &zero))
		if seq > 0 {
			require.Error(t, checkRecord(seq-1, v), "the key is covered by the crc")
		}
		for i := range v {
			w := append([]byte(nil), v...)
			w[i] ^= 0x10
			if checkRecord(seq, w) == nil && c.checkLink(seq, w, &zero) == nil {
				t.Fatalf("flipping byte %d went unnoticed", i)
			}
		}
	})
}
