package pipeline_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// provSink is a sink whose Provision fails with err (nil: succeeds).
type provSink struct {
	*pipelinetest.RecordingSink
	err         error
	provisioned int
}

func (s *provSink) Provision(context.Context) error { s.provisioned++; return s.err }

// provSource is a source whose Provision fails with err.
type provSource struct {
	*scriptSource
	err    error
	closed int
}

func (s *provSource) Provision(context.Context) error { return s.err }
func (s *provSource) Close(context.Context) error     { s.closed++; return nil }

func provisionRegistries(t *testing.T, h *harness, src *provSource) {
	t.Helper()
	require.NoError(t, h.regs.Sources.Register(pipeline.NewSourceFactory("prov", func() *emptyConfig { return &emptyConfig{} },
		func(context.Context, pipeline.Settings, *emptyConfig) (pipeline.Source, error) { return src, nil })))
}

// Provision builds, provisions and closes every component and returns
// every error, each naming its component; nothing is started.
func TestProvisionReportsEveryComponent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := &provSource{scriptSource: newScriptSource(nil), err: errors.New("open /etc/cert.pem: no such file")}
	provisionRegistries(t, h, src)
	good := &provSink{RecordingSink: pipelinetest.NewRecordingSink()}
	bad := &provSink{RecordingSink: pipelinetest.NewRecordingSink(), err: errors.New("read secret: permission denied")}
	h.sinks["good"], h.sinks["bad"] = good, bad
	spec := provSpec()
	err := pipeline.Provision(context.Background(), spec, h.regs, pipeline.NopSettings("test"))
	require.ErrorContains(t, err, "source in: provision: open /etc/cert.pem")
	require.ErrorContains(t, err, "sink bad: provision: read secret")
	assert.NotContains(t, err.Error(), "sink good")
	assert.Equal(t, 1, good.provisioned)
	assert.Equal(t, 1, good.Closed())
	assert.Equal(t, 1, bad.Closed())
	assert.Zero(t, good.Started(), "nothing started")

	src.err = nil
	spec.Sinks = spec.Sinks[:1]
	require.NoError(t, pipeline.Provision(context.Background(), spec, h.regs, pipeline.NopSettings("test")))
	assert.Equal(t, 2, src.closed, "a source that never runs is closed")
}

// New provisions what it builds, and a failing Provision fails New,
// which closes the sinks it built.
func TestNewProvisions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	provisionRegistries(t, h, &provSource{scriptSource: newScriptSource(nil)})
	good := &provSink{RecordingSink: pipelinetest.NewRecordingSink()}
	bad := &provSink{RecordingSink: pipelinetest.NewRecordingSink(), err: errors.New("no cert")}
	h.sinks["good"], h.sinks["bad"] = good, bad
	spec := provSpec()
	_, err := pipeline.New(context.Background(), spec, h.regs, pipelinetest.NewMemoryJournal(), pipeline.NopSettings("test"))
	require.ErrorContains(t, err, "sink bad: provision: no cert")
	assert.Equal(t, 1, good.provisioned)
	assert.Equal(t, 1, good.Closed())
	assert.Equal(t, 1, bad.Closed())
}

// provSpec has the "prov" source and the sinks "good" and "bad".
func provSpec() pipeline.Spec {
	return pipeline.Spec{
		Sources: []pipeline.SourceSpec{{Name: "in", Type: "prov", Config: &emptyConfig{}}},
		Sinks: []pipeline.SinkSpec{
			{Name: "good", Type: "recording", Config: &emptyConfig{}},
			{Name: "bad", Type: "recording", Config: &emptyConfig{}},
		},
	}
}
