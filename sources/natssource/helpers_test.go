package natssource_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sluice-dev/sluice/internal/fleet"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/natsjournal"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/natssource"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*Server).Start.func1"))
}

// agent opens an agent's journal (backend nats) forwarding to url and
// appends n events to it.
func agent(t *testing.T, url, id string, n int) journal.Store {
	t.Helper()
	c := journal.DefaultConfig()
	c.Backend, c.Dir = journal.BackendNATS, t.TempDir()
	c.NATS.Conn.URL, c.NATS.AgentID = url, id
	c.NATS.Retry.Initial, c.NATS.Retry.Max = 20*time.Millisecond, 200*time.Millisecond
	require.NoError(t, c.Validate())
	s, err := natsjournal.Backend{}.Open(t.Context(), c, journal.ReadWrite, pipeline.NopSettings("journal"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	appendTo(t, s, id, 1, n)
	return s
}

// appendTo appends n events to agent id's journal j, numbered from first.
func appendTo(t *testing.T, j journal.Store, id string, first, n int) {
	t.Helper()
	for i := 0; i < n; i += 100 {
		_, err := j.Append(t.Context(), pipeline.AppendBatch{Events: events(id, first+i, min(100, n-i))})
		require.NoError(t, err)
	}
}

// events returns n events of agent id, numbered from first.
func events(id string, first, n int) []pipeline.Event {
	evs := make([]pipeline.Event, n)
	for k := range evs {
		evs[k] = pipeline.Event{ID: fmt.Sprintf("%s-%d", id, first+k), Source: "/agent/" + id, Type: "sluice.test", Origin: "probe"}
	}
	return evs
}

// router is a running nats source.
type router struct {
	host *pipelinetest.RecordingHost
	stop func()
}

func startRouter(t *testing.T, url string, edit func(*natssource.Config)) *router {
	t.Helper()
	return startRouterWith(t, url, pipeline.NopSettings("fleet"), edit)
}

func startRouterWith(t *testing.T, url string, set pipeline.Settings, edit func(*natssource.Config)) *router {
	t.Helper()
	f := natssource.NewFactory()
	cfg, ok := f.DefaultConfig().(*natssource.Config)
	require.True(t, ok)
	cfg.Conn.URL = url
	cfg.AckWait = 10 * time.Second
	cfg.NakDelay = 50 * time.Millisecond
	cfg.Retry.Initial, cfg.Retry.Max = 20*time.Millisecond, 200*time.Millisecond
	if edit != nil {
		edit(cfg)
	}
	src, err := f.NewSource(t.Context(), set, cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &router{host: pipelinetest.NewRecordingHost("fleet")}
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, r.host) }()
	var once bool
	r.stop = func() {
		if once {
			return
		}
		once = true
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(15 * time.Second):
			t.Fatal("the nats source did not stop")
		}
	}
	t.Cleanup(r.stop)
	return r
}

// key is an agent record as the router saw it.
type key struct {
	agent string
	seq   uint64
}

func keyOf(t *testing.T, e pipeline.Event) key {
	t.Helper()
	seq, err := strconv.ParseUint(e.Extensions[fleet.ExtSeq], 10, 64)
	require.NoError(t, err)
	return key{e.Extensions[fleet.ExtAgent], seq}
}

func waitEvents(t *testing.T, h *pipelinetest.RecordingHost, n int) []pipeline.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	evs, err := h.WaitForEvents(ctx, n)
	require.NoError(t, err)
	return evs
}
