package lbworkersource_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/internal/libra"
	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/lbworkersource"
)

type noConfig struct{}

func (*noConfig) Validate() error { return nil }

// typeIs selects events of one type.
type typeIs string

func (m typeIs) Match(e *pipeline.Event) (bool, error) { return e.Type == string(m), nil }

// applierHook plays the haproxy sink: the request's extraneous field
// "test_mode" (ignored by the contract, echoed) says what it does.
func applierHook(ctx context.Context, batch []pipeline.Delivery) error {
	var failed []pipeline.DeliveryFailure
	for i, d := range batch {
		ev, err := libra.ParseRequestEvent(d.Event.Data)
		if err != nil {
			return pipeline.Permanent(err)
		}
		var msg struct {
			Mode string `json:"test_mode"`
		}
		_ = json.Unmarshal(ev.Message, &msg)
		switch msg.Mode {
		case "permanent":
			failed = append(failed, pipeline.DeliveryFailure{Index: i, Err: pipeline.Permanent(errors.New("haproxy -c: [ALERT] parsing error"))})
		case "transient":
			failed = append(failed, pipeline.DeliveryFailure{Index: i, Err: errors.New("haproxy not running")})
		case "nodes":
			pipeline.SetResult(ctx, d, libra.Result(libra.Object().Set("nodes", libra.Array(
				libra.Object().Set("id", libra.String("n-1")).Set("status", libra.String("UP"))))))
		case "deleted":
			pipeline.SetResult(ctx, d, libra.FailResult("Load balancer has been deleted", libra.Object().Set("status", libra.String("DELETED"))))
		}
	}
	if failed != nil {
		return &pipeline.BatchError{Failed: failed}
	}
	return nil
}

// lbPipeline runs the lbworker source "lb" over HTTP in a real pipeline
// with a journal, reply_after [applier]; "states" records the
// sluice.lb.state events. It returns the URL and the state recorder.
func lbPipeline(t *testing.T, tune func(*lbworkersource.Config)) (string, *pipelinetest.RecordingSink) {
	t.Helper()
	cfg := httpConfig()
	cfg.ReplyAfter = []string{"applier"}
	cfg.ReplyTimeout = 300 * time.Millisecond
	if tune != nil {
		tune(cfg)
	}
	var src *lbworkersource.Source
	srcReg, err := pipeline.NewRegistry(pipeline.NewSourceFactory("lbworker", func() *noConfig { return &noConfig{} },
		func(ctx context.Context, set pipeline.Settings, _ *noConfig) (pipeline.Source, error) {
			s, err := lbworkersource.NewFactory().NewSource(ctx, set, cfg)
			if err == nil {
				src = s.(*lbworkersource.Source)
			}
			return s, err
		}))
	require.NoError(t, err)
	applier, states := pipelinetest.NewRecordingSink(), pipelinetest.NewRecordingSink()
	applier.SetHook(applierHook)
	sinks := map[string]pipeline.Sink{"applier": applier, "states": states}
	snkReg, err := pipeline.NewRegistry(pipeline.NewSinkFactory("recording", func() *noConfig { return &noConfig{} },
		func(_ context.Context, set pipeline.Settings, _ *noConfig) (pipeline.Sink, error) {
			return sinks[set.ID], nil
		}))
	require.NoError(t, err)
	j, err := journal.Open(t.TempDir(), journal.Options{CursorFlushInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	retry := pipeline.RetryConfig{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond, Multiplier: 2}
	p, err := pipeline.New(t.Context(), pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "lb", Type: "lbworker", Config: &noConfig{}}},
		Sinks: []pipeline.SinkSpec{
			{Name: "applier", Type: "recording", Config: &noConfig{}, Retry: retry},
			{Name: "states", Type: "recording", Config: &noConfig{}},
		},
		Routes: []pipeline.RouteSpec{
			{Name: "requests", From: []string{"lb"}, To: []string{"applier"}, Match: typeIs(libra.EventRequest)},
			{Name: "states", From: []string{"lb"}, To: []string{"states"}, Match: typeIs(libra.EventState)},
		},
		ShutdownTimeout: 5 * time.Second,
	}, pipeline.Registries{Sources: srcReg, Sinks: snkReg}, j, pipeline.NopSettings("test"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
		assert.NoError(t, j.Close(context.Background()))
	})
	require.Eventually(t, func() bool { return p.Ready() && src.Addr() != nil }, 10*time.Second, time.Millisecond)
	return "http://" + src.Addr().String() + "/lbaas", states
}

const updateBody = `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"HTTP","id":"lb-7","nodes":[{"id":"1","address":"127.0.0.1","port":"8080"}]}]`

func TestReplyAfterSinkOutcome(t *testing.T) {
	t.Parallel()
	url, _ := lbPipeline(t, nil)
	tests := []struct {
		name   string
		body   string
		status int
		reply  string
	}{
		{"update applied", updateBody + `}`, http.StatusOK,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"HTTP","id":"lb-7","nodes":[{"id":"1","address":"127.0.0.1","port":"8080","condition":"ENABLED"}]}],"hpcs_response":"PASS"}`},
		{"update rejected by the sink", updateBody + `,"test_mode":"permanent"}`, http.StatusUnprocessableEntity,
			`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"HTTP","id":"lb-7","nodes":[{"id":"1","address":"127.0.0.1","port":"8080","condition":"ENABLED"}]}],"test_mode":"permanent","hpcs_error":"sink applier: haproxy -c: [ALERT] parsing error","hpcs_response":"FAIL"}`},
		{"stats answered by the sink", `{"hpcs_action":"STATS","test_mode":"nodes"}`, http.StatusOK,
			`{"hpcs_action":"STATS","test_mode":"nodes","nodes":[{"id":"n-1","status":"UP"}],"hpcs_response":"PASS"}`},
		{"stats of a deleted load balancer", `{"hpcs_action":"stats","test_mode":"deleted"}`, http.StatusUnprocessableEntity,
			`{"hpcs_action":"stats","test_mode":"deleted","status":"DELETED","hpcs_error":"Load balancer has been deleted","hpcs_response":"FAIL"}`},
		{"discover is answered by the source", `{"hpcs_action":"DISCOVER","test_mode":"transient"}`, http.StatusOK,
			`{"hpcs_action":"DISCOVER","test_mode":"transient","version":"1.0","release":"1.0.0","hpcs_response":"PASS"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, reply := post(t, url, "t0ken", "", tt.body)
			assert.Equal(t, tt.status, status)
			exactJSON(t, tt.reply, reply)
		})
	}
}

func TestReplyAfterTimeout(t *testing.T) {
	t.Parallel()
	url, _ := lbPipeline(t, nil)
	start := time.Now()
	status, reply := post(t, url, "t0ken", "", `{"hpcs_action":"SUSPEND","test_mode":"transient"}`)
	assert.Equal(t, http.StatusGatewayTimeout, status)
	assert.Less(t, time.Since(start), 5*time.Second)
	var r map[string]string
	require.NoError(t, json.Unmarshal([]byte(reply), &r))
	assert.Equal(t, "FAIL", r["hpcs_response"])
	assert.Contains(t, r["hpcs_error"], "not applied in time: sink applier did not complete the request within reply_timeout (300ms); it is journaled")
}

// The reply remembered for an Idempotency-Key is the sinks' answer, not
// the provisional one written with the request.
func TestReplyAfterResubmissionGetsTheFinalReply(t *testing.T) {
	t.Parallel()
	url, _ := lbPipeline(t, nil)
	s1, first := post(t, url, "t0ken", "k-1", `{"hpcs_action":"STATS","test_mode":"nodes"}`)
	s2, again := post(t, url, "t0ken", "k-1", `{"hpcs_action":"STATS","test_mode":"nodes"}`)
	assert.Equal(t, http.StatusOK, s1)
	assert.Equal(t, http.StatusOK, s2)
	exactJSON(t, first, again)
	assert.Contains(t, again, `"nodes":[{"id":"n-1","status":"UP"}]`)
}

func TestReplyAfterStateEvents(t *testing.T) {
	t.Parallel()
	url, states := lbPipeline(t, nil)
	steps := []struct {
		body string
		want []string // from>to per event
	}{
		{updateBody + `}`, []string{">ACTIVE"}},
		{updateBody + `}`, nil},
		{`{"hpcs_action":"SUSPEND"}`, []string{"ACTIVE>SUSPENDED"}},
		{`{"hpcs_action":"ENABLE"}`, []string{"SUSPENDED>ACTIVE"}},
		{updateBody + `,"test_mode":"permanent"}`, []string{"ACTIVE>ERROR"}},
		{`{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"TCP","port":"443","nodes":[{"id":"2","address":"127.0.0.1","port":"9"}]}]}`,
			[]string{">ACTIVE", "ERROR>DELETED"}},
		{`{"hpcs_action":"DELETE"}`, []string{"ACTIVE>DELETED"}},
	}
	var want []string
	for _, st := range steps {
		post(t, url, "t0ken", "", st.body)
		want = append(want, st.want...)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := states.WaitForDeliveries(ctx, len(want))
	require.NoError(t, err)
	var got []string
	var last eventtypes.LBStateData
	for _, e := range states.Events() {
		require.Equal(t, eventtypes.LBState, e.Type)
		require.Equal(t, "lb-http", e.Subject)
		var d eventtypes.LBStateData
		require.NoError(t, json.Unmarshal(e.Data, &d))
		got = append(got, d.From+">"+d.To)
		if d.To == eventtypes.LBError {
			assert.Equal(t, "sink applier: haproxy -c: [ALERT] parsing error", d.Reason)
			assert.Equal(t, pipeline.SeverityWarning, e.Severity)
			assert.Equal(t, "lb-7", d.LoadBalancer)
		}
		last = d
	}
	assert.ElementsMatch(t, want[5:7], got[5:7], "one UPDATE's changes come in one append, in any order")
	assert.Equal(t, want[:5], got[:5])
	assert.Equal(t, want[7:], got[7:])
	assert.Equal(t, "DELETE", last.Action)
	assert.Equal(t, "tcp", last.Protocol)
	assert.Equal(t, 443, last.Port)
}

func TestReplyAfterNeedsADeliveryWatcher(t *testing.T) {
	t.Parallel()
	cfg := httpConfig()
	cfg.ReplyAfter = []string{"applier"}
	src, err := lbworkersource.NewFactory().NewSource(t.Context(), pipeline.NopSettings("lb"), cfg)
	require.NoError(t, err)
	err = src.Run(t.Context(), pipelinetest.NewRecordingHost("lb"))
	require.ErrorIs(t, err, lbworkersource.ErrNoDeliveryWatch)
}

func TestReplyAfterConfig(t *testing.T) {
	t.Parallel()
	cfg := httpConfig()
	cfg.ReplyAfter = []string{"a", "a", ""}
	cfg.ReplyTimeout = cfg.HTTP.WriteTimeout
	err := cfg.Validate()
	require.Error(t, err)
	require.ErrorContains(t, err, "reply_after[1]")
	require.ErrorContains(t, err, "reply_after[2]")
	assert.ErrorContains(t, err, "reply_timeout")
}
