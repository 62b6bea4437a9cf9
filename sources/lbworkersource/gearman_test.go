package lbworkersource_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/libra"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

const (
	exampleUpdate = `{"hpcs_action":"update","loadBalancers":[{"name":"web","protocol":"HTTP","algorithm":"LEAST_CONNECTIONS","nodes":[{"id":"101","address":"10.0.0.5","port":"8080","weight":"2","backup":"FALSE"}],"monitor":{"type":"HTTP","delay":"30","timeout":"30","attempts":"2","path":"healthz"}}]}`
	examplePass   = `{"hpcs_action":"update","loadBalancers":[{"name":"web","protocol":"HTTP","algorithm":"LEAST_CONNECTIONS","nodes":[{"id":"101","address":"10.0.0.5","port":"8080","weight":"2","backup":"FALSE","condition":"ENABLED"}],"monitor":{"type":"HTTP","delay":"30","timeout":"30","attempts":"2","path":"healthz"}}],"hpcs_response":"PASS"}`
)

func TestGearmanUpdateJournaledBeforePass(t *testing.T) {
	t.Parallel()
	g := startGearmand(t)
	host := pipelinetest.NewRecordingHost("lb")
	release := make(chan struct{})
	// The append is held: no reply may come before it returns.
	host.SetHook(func(ctx context.Context, _ []pipeline.Event) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	startSource(t, gearmanConfig(g, "lb-update"), host)
	g.waitWorkers(t, "lb-update", 2)

	result := make(chan string, 1)
	go func() {
		out, err := g.submitE(context.Background(), "lb-update", "job-1", exampleUpdate)
		if err != nil {
			out = err.Error()
		}
		result <- out
	}()
	select {
	case out := <-result:
		t.Fatalf("replied before the append returned: %s", out)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	out := <-result
	exactJSON(t, examplePass, out)
	events := host.Events()
	require.Len(t, events, 1)
	ev := events[0]
	assert.Equal(t, libra.EventRequest, ev.Type)
	assert.Equal(t, "gearman/lb-update/job-1", ev.ID)
	assert.Equal(t, "lb-update", ev.Subject)
	req, err := libra.ParseRequestEvent(ev.Data)
	require.NoError(t, err)
	assert.Equal(t, libra.ActionUpdate, req.Action)
	assert.Equal(t, "job-1", req.RequestID)
	assert.Equal(t, libra.TransportGearman, req.Transport)
	assert.Equal(t, "gearman://"+g.addr()+"/lb-update", req.Client)
	require.Len(t, req.LoadBalancers, 1)
	assert.Equal(t, []libra.Node{{ID: "101", Address: "10.0.0.5", Port: 8080, Weight: 2}}, req.LoadBalancers[0].Nodes)
	assert.JSONEq(t, exampleUpdate, string(req.Message))
}

func TestGearmanResubmittedJobAppliedOnce(t *testing.T) {
	t.Parallel()
	g := startGearmand(t)
	host := pipelinetest.NewRecordingHost("lb")
	r := startSource(t, gearmanConfig(g, "lb-dedupe"), host)
	g.waitWorkers(t, "lb-dedupe", 2)
	first := g.submit(t, "lb-dedupe", "same-unique", `{"hpcs_action":"SUSPEND","n":1}`)
	exactJSON(t, `{"hpcs_action":"SUSPEND","n":1,"hpcs_response":"PASS"}`, first)
	// The same unique id again, even with other data, is the same job.
	assert.Equal(t, first, g.submit(t, "lb-dedupe", "same-unique", `{"hpcs_action":"SUSPEND","n":2}`))
	require.Len(t, host.Events(), 1)

	// After a restart the remembered reply comes from the source's state.
	r.stop()
	startSource(t, gearmanConfig(g, "lb-dedupe"), host)
	g.waitWorkers(t, "lb-dedupe", 2)
	assert.Equal(t, first, g.submit(t, "lb-dedupe", "same-unique", `{"hpcs_action":"SUSPEND","n":1}`))
	assert.Len(t, host.Events(), 1, "a resubmitted job is journaled once")
	exactJSON(t, `{"hpcs_action":"ENABLE","hpcs_response":"PASS"}`, g.submit(t, "lb-dedupe", "other", `{"hpcs_action":"ENABLE"}`))
	assert.Len(t, host.Events(), 2)
}

func TestGearmanRefusals(t *testing.T) {
	t.Parallel()
	g := startGearmand(t)
	host := pipelinetest.NewRecordingHost("lb")
	cfg := gearmanConfig(g, "lb-refuse")
	cfg.MaxRequestBytes = 256
	startSource(t, cfg, host)
	g.waitWorkers(t, "lb-refuse", 2)
	for _, tc := range []struct{ name, in, want string }{
		{"malformed JSON", `{"hpcs_action":"UPDATE",`, `{"hpcs_error":"malformed JSON: unexpected end of input","hpcs_response":"FAIL"}`},
		{"not JSON", `hello`, `{"hpcs_error":"malformed JSON: invalid character 'h' looking for beginning of value","hpcs_response":"FAIL"}`},
		{"badRequest", `{"hpcs_action":"UPDATE"}`, `{"badRequest":{"code":"400","message":"Validation fault","details":"The object is not valid","validationErrors":{"message":"Missing 'loadBalancers' element"}}}`},
		{"too large", `{"hpcs_action":"ENABLE","pad":"` + strings.Repeat("x", 300) + `"}`, `{"hpcs_error":"request of 333 bytes exceeds max_request_bytes (256)","hpcs_response":"FAIL"}`},
		{"unknown action", `{"hpcs_action":"PING"}`, `{"hpcs_action":"PING","hpcs_error":"invalid 'hpcs_action' value: PING","hpcs_response":"FAIL"}`},
	} {
		assert.Equal(t, tc.want, g.submit(t, "lb-refuse", "", tc.in), tc.name)
	}
	assert.Empty(t, host.Events(), "refused requests are not journaled")

	host.SetError(fmt.Errorf("append: %w: disk quota", pipeline.ErrJournalFull))
	exactJSON(t, `{"hpcs_action":"DELETE","hpcs_error":"request not journaled: append: journal full: disk quota","hpcs_response":"FAIL"}`,
		g.submit(t, "lb-refuse", "u-full", `{"hpcs_action":"DELETE"}`))
	host.SetError(nil)
	// Not remembered: once the journal takes it, the same job passes.
	exactJSON(t, `{"hpcs_action":"DELETE","hpcs_response":"PASS"}`, g.submit(t, "lb-refuse", "u-full", `{"hpcs_action":"DELETE"}`))
	assert.Len(t, host.Events(), 1)
}

func TestGearmanReconnectsAndRegistersAgain(t *testing.T) {
	t.Parallel()
	g := startGearmand(t)
	host := pipelinetest.NewRecordingHost("lb")
	startSource(t, gearmanConfig(g, "lb-reconnect"), host)
	g.waitWorkers(t, "lb-reconnect", 2)
	assert.Contains(t, g.submit(t, "lb-reconnect", "", `{"hpcs_action":"ENABLE"}`), `"PASS"`)
	g.stop()
	g.start()
	g.waitWorkers(t, "lb-reconnect", 2)
	exactJSON(t, `{"hpcs_action":"ENABLE","hpcs_response":"PASS"}`, g.submit(t, "lb-reconnect", "", `{"hpcs_action":"ENABLE"}`))
	lines, err := g.admin("workers")
	require.NoError(t, err)
	assert.Contains(t, strings.Join(lines, "\n"), "lb-reconnect : lb-reconnect", "client id and function registered again")
	assert.Len(t, host.Events(), 2)
}

func TestGearmanDiscoverAndDiagnostics(t *testing.T) {
	t.Parallel()
	g := startGearmand(t)
	host := pipelinetest.NewRecordingHost("lb")
	cfg := gearmanConfig(g, "lb-diag")
	dead := fmt.Sprintf("127.0.0.2:%d", freePort(t))
	cfg.Gearman.Servers = append(cfg.Gearman.Servers, dead)
	cfg.Diagnostics.NetworkTarget = g.addr()
	cfg.Discover.Version, cfg.Discover.Release = "4.1", "4.1.7"
	startSource(t, cfg, host)
	g.waitWorkers(t, "lb-diag", 2)
	exactJSON(t, `{"hpcs_action":"discover","version":"4.1","release":"4.1.7","hpcs_response":"PASS"}`,
		g.submit(t, "lb-diag", "", `{"hpcs_action":"discover"}`))
	exactJSON(t, `{"hpcs_action":"DIAGNOSTICS","gearman":[{"host":"127.0.0.1","status":"PASS"},{"host":"127.0.0.2","status":"FAIL"}],"network":"PASS","hpcs_response":"PASS"}`,
		g.submit(t, "lb-diag", "", `{"hpcs_action":"DIAGNOSTICS"}`))
	exactJSON(t, `{"hpcs_action":"STATS","hpcs_error":"STATS is answered by a sink: configure reply_after with the sink that applies requests; the request is journaled","hpcs_response":"FAIL"}`,
		g.submit(t, "lb-diag", "", `{"hpcs_action":"STATS"}`))
	assert.Len(t, host.Events(), 3, "queries are journaled too: the audit trail")
}

func TestGearmanConcurrentJobs(t *testing.T) {
	t.Parallel()
	g := startGearmand(t)
	host := pipelinetest.NewRecordingHost("lb")
	cfg := gearmanConfig(g, "lb-many")
	cfg.Gearman.Workers = 4
	startSource(t, cfg, host)
	g.waitWorkers(t, "lb-many", 4)
	const n = 24
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out, err := g.submitE(context.Background(), "lb-many", fmt.Sprintf("job-%d", i), fmt.Sprintf(`{"hpcs_action":"ENABLE","i":%d}`, i))
			if err != nil {
				t.Error(err)
				return
			}
			exactJSON(t, fmt.Sprintf(`{"hpcs_action":"ENABLE","i":%d,"hpcs_response":"PASS"}`, i), out)
		})
	}
	wg.Wait()
	assert.Len(t, host.Events(), n)
}

// TestGearmanJobsInFlightPerConnection: one worker connection works
// jobs_per_connection jobs at once (their appends can share a commit),
// and the jobs in flight when the source stops still get their
// WORK_COMPLETE.
func TestGearmanJobsInFlightPerConnection(t *testing.T) {
	t.Parallel()
	g := startGearmand(t)
	host := pipelinetest.NewRecordingHost("lb")
	const n = 4
	var mu sync.Mutex
	inFlight := 0
	all := make(chan struct{})
	release := make(chan struct{})
	host.SetHook(func(ctx context.Context, _ []pipeline.Event) error {
		mu.Lock()
		if inFlight++; inFlight == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	cfg := gearmanConfig(g, "lb-inflight")
	cfg.Gearman.Workers, cfg.Gearman.JobsPerConnection = 1, n
	r := startSource(t, cfg, host)
	g.waitWorkers(t, "lb-inflight", 1)
	outs := make(chan string, n)
	for i := range n {
		go func() {
			out, err := g.submitE(context.Background(), "lb-inflight", fmt.Sprintf("job-%d", i), fmt.Sprintf(`{"hpcs_action":"ENABLE","i":%d}`, i))
			if err != nil {
				out = err.Error()
			}
			outs <- out
		}()
	}
	select {
	case <-all:
	case <-time.After(20 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("%d of %d jobs reached the journal at once on one connection", inFlight, n)
	}
	stopped := make(chan struct{})
	go func() { r.stop(); close(stopped) }()
	time.Sleep(100 * time.Millisecond) // let the stop begin with the jobs held
	close(release)
	for range n {
		assert.Contains(t, <-outs, `"PASS"`)
	}
	<-stopped
	assert.Len(t, host.Events(), n)
}
