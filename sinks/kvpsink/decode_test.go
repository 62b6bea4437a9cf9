package kvpsink_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/sinks/kvpsink"
)

// rawRecord builds one record from a key and a value, NUL-padded.
func rawRecord(key, value string) []byte {
	b := make([]byte, kvpsink.RecordSize)
	copy(b, key)
	copy(b[kvpsink.KeySize:], value)
	return b
}

func TestDecodeRecords(t *testing.T) {
	t.Parallel()
	pool := append(rawRecord("k1", "v1"), rawRecord("\x00k2\x00", "\xff")...)
	pool = append(pool, make([]byte, 100)...)
	recs, err := kvpsink.DecodeRecords(pool)
	require.ErrorIs(t, err, kvpsink.ErrPartialRecord)
	require.ErrorIs(t, err, kvpsink.ErrInvalidUTF8)
	assert.Contains(t, err.Error(), "record 1 (offset 2560): value")
	assert.Contains(t, err.Error(), "100 bytes after record 2")
	require.Len(t, recs, 2)
	assert.Equal(t, kvpsink.Record{Key: "k1", Value: "v1"}, recs[0])
	assert.Equal(t, "k2", recs[1].Key, "NULs stripped at both ends, as cloud-init does")

	recs, err = kvpsink.DecodeRecords(nil)
	require.NoError(t, err)
	assert.Empty(t, recs)
}

func TestParseRecord(t *testing.T) {
	t.Parallel()
	const ts = `"ts":"2023-11-14T22:13:20Z"`
	tests := []struct {
		name    string
		rec     kvpsink.Record
		want    kvpsink.Entry
		wantErr string
	}{
		{
			name: "event",
			rec:  kvpsink.Record{Key: "P|17|t|a|b|u-u", Value: `{"name":"a|b","type":"t",` + ts + `,"result":"OK","msg":"m\u00e9"}`},
			want: kvpsink.Entry{Key: "P|17|t|a|b|u-u", Prefix: "P", Incarnation: 17, Type: "t", Name: "a|b", UUID: "u-u", Slice: -1,
				TS: "2023-11-14T22:13:20Z", Result: "OK", HasResult: true, RawMsg: `m\u00e9`, Msg: "mé"},
		},
		{
			name: "slice cut inside an escape",
			rec:  kvpsink.Record{Key: "P|17|t|n|u|3", Value: `{"name":"n","type":"t",` + ts + `,"msg_i":3,"msg":"ab\u00"}`},
			want: kvpsink.Entry{Key: "P|17|t|n|u|3", Prefix: "P", Incarnation: 17, Type: "t", Name: "n", UUID: "u", Slice: 3,
				TS: "2023-11-14T22:13:20Z", RawMsg: `ab\u00`},
		},
		{name: "provisioning report", rec: kvpsink.Record{Key: "PROVISIONING_REPORT", Value: "result=success"}, wantErr: "no trailing"},
		{name: "bad metadata", rec: kvpsink.Record{Key: "P|1|t|n|u", Value: `{"name":1,"msg":""}`}, wantErr: "metadata"},
		{name: "missing ts", rec: kvpsink.Record{Key: "P|1|t|n|u", Value: `{"name":"n","type":"t","msg":""}`}, wantErr: "lacks"},
		{name: "short key", rec: kvpsink.Record{Key: "P|1|t|n", Value: `{"name":"n","type":"t",` + ts + `,"msg":""}`}, wantErr: "fewer than 5"},
		{name: "bad incarnation", rec: kvpsink.Record{Key: "P|x|t|n|u", Value: `{"name":"n","type":"t",` + ts + `,"msg":""}`}, wantErr: "incarnation"},
		{name: "name mismatch", rec: kvpsink.Record{Key: "P|1|t|cut|u", Value: `{"name":"cutoff","type":"t",` + ts + `,"msg":""}`}, wantErr: "differ"},
		{name: "slice index mismatch", rec: kvpsink.Record{Key: "P|1|t|n|u|2", Value: `{"name":"n","type":"t",` + ts + `,"msg_i":1,"msg":""}`}, wantErr: "msg_i 1"},
		{name: "bad msg", rec: kvpsink.Record{Key: "P|1|t|n|u", Value: `{"name":"n","type":"t",` + ts + `,"msg":"\x"}`}, wantErr: "msg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := kvpsink.ParseRecord(tt.rec)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, kvpsink.ErrNotEventRecord)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestReassemble(t *testing.T) {
	t.Parallel()
	slice := func(key string, i int, raw string) kvpsink.Entry {
		return kvpsink.Entry{Key: key + "|" + string(rune('0'+i)), Slice: i, TS: "t", RawMsg: raw}
	}
	entries := []kvpsink.Entry{
		slice("A", 1, `00e9\"`),
		{Key: "B", Slice: -1, Msg: "whole"},
		slice("A", 0, `x\u`),
		slice("C", 0, `y`), // slice 1 missing
		slice("C", 2, `z`),
		slice("D", 0, `\`), // does not decode once joined
		slice("E", 0, `a`),
		slice("E", 0, `a`), // repeated
	}
	msgs, err := kvpsink.Reassemble(entries)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "event C: slice 1 missing or repeated")
	assert.Contains(t, err.Error(), "event D: joined slices")
	assert.Contains(t, err.Error(), "event E: slice 1 missing or repeated")
	require.Len(t, msgs, 2)
	assert.Equal(t, "xé\"", msgs[0].Msg, "joined in slice order, decoded once")
	assert.Equal(t, 2, msgs[0].Slices)
	assert.Equal(t, "A|0", msgs[0].Key)
	assert.Equal(t, "A", msgs[0].BaseKey())
	assert.Equal(t, "whole", msgs[1].Msg)
	assert.Zero(t, msgs[1].Slices)
	assert.True(t, strings.HasPrefix(msgs[1].Key, "B"))
}
