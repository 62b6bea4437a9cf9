package haproxysink_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/libra"
	"github.com/sluice-dev/sluice/pipeline"
)

// request is a journaled Libra request delivery for msg.
func request(t *testing.T, seq uint64, msg string) pipeline.Delivery {
	t.Helper()
	d, ref := libra.Decode([]byte(msg))
	require.Nil(t, ref, "message refused: %v", ref)
	data, err := jsonMarshal(libra.NewRequestEvent(d, "p"+strconv.FormatUint(seq, 10), libra.TransportHTTP, "test"))
	require.NoError(t, err)
	return pipeline.Delivery{Event: pipeline.Event{ID: "p" + strconv.FormatUint(seq, 10), Type: libra.EventRequest, Data: data, Sequence: seq}}
}

// Encode (the sluice test preview) shows the haproxy.cfg Deliver writes
// for an UPDATE, and a line for other actions, without writing the file,
// reloading haproxy or changing the sink state.
func TestEncodeShowsWhatDeliverWrites(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	enc, ok := l.sink.(pipeline.Encoder)
	require.True(t, ok, "the haproxy sink is a pipeline.Encoder")
	a := startBackend(t, "a")
	require.NoError(t, l.deliver(update(plainHTTPLB(freePort(t), node("a", a.Port)))))
	before := l.state.All()
	cfgBefore, err := os.ReadFile(l.cfg.ConfigPath)
	require.NoError(t, err)

	port := freePort(t)
	upd := request(t, 100, update(plainHTTPLB(port, node("a", a.Port), node("b", a.Port))))
	batch := []pipeline.Delivery{
		upd,
		request(t, 101, `{"hpcs_action":"STATS"}`),
		request(t, 102, `{"hpcs_action":"SUSPEND"}`),
		upd,
	}
	got, err := enc.Encode(batch)
	require.NoError(t, err)
	again, err := enc.Encode(batch)
	require.NoError(t, err)
	assert.Equal(t, string(got), string(again), "Encode changes no state")
	assert.Equal(t, before, l.state.All(), "Encode changes no sink state")
	cfgAfter, err := os.ReadFile(l.cfg.ConfigPath)
	require.NoError(t, err)
	assert.Equal(t, string(cfgBefore), string(cfgAfter), "Encode writes nothing")

	require.NoError(t, l.sink.Deliver(t.Context(), batch[:1]))
	written, err := os.ReadFile(l.cfg.ConfigPath)
	require.NoError(t, err)
	require.NotEqual(t, string(cfgBefore), string(written))
	want := string(written) + "STATS: read the node statuses from the stats socket and reply with them\n" +
		"SUSPEND: write " + l.cfg.ConfigPath + " with 0 load balancers live (suspended: true) and reload haproxy\n"
	require.True(t, strings.HasPrefix(string(got), want), "got:\n%s\nwant prefix:\n%s", got, want)

	// An UPDATE while suspended goes live without load balancers.
	require.NoError(t, l.sink.Deliver(t.Context(), batch[1:]))
	suspended, err := os.ReadFile(l.cfg.ConfigPath)
	require.NoError(t, err)
	assert.Equal(t, want+string(suspended), string(got))
	assert.NotContains(t, string(suspended), strconv.Itoa(port))
}
