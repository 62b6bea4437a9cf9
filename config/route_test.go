package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/internal/reserved"
	"github.com/sluice-dev/sluice/pipeline"
)

func TestRouteMatchAndTransform(t *testing.T) {
	t.Parallel()
	f, err := parseFixture(t, "testdata/valid/routes.yaml")
	require.NoError(t, err)
	rt := f.Pipeline.Routes[0]
	require.NotNil(t, rt.Match)
	require.NotNil(t, rt.Transform)
	base := pipeline.Event{ID: "1", Source: "/s", Type: "sluice.probe.state", Subject: "web-1", Origin: "ingest",
		Severity: pipeline.SeverityError, Extensions: map[string]string{"region": "eu1", "debug": "x"},
		DataContentType: "application/json", Data: []byte(`{"code":500}`)}
	tests := []struct {
		name   string
		change func(e *pipeline.Event)
		want   bool
	}{
		{name: "all conditions hold", change: func(*pipeline.Event) {}, want: true},
		{name: "type glob", change: func(e *pipeline.Event) { e.Type = "sluice.vm.fault" }},
		{name: "below severity", change: func(e *pipeline.Event) { e.Severity = pipeline.SeverityNotice }},
		{name: "subject glob", change: func(e *pipeline.Event) { e.Subject = "db-1" }},
		{name: "attribute glob", change: func(e *pipeline.Event) { e.Extensions = map[string]string{"region": "us1"} }},
		{name: "attribute missing", change: func(e *pipeline.Event) { e.Extensions = nil }},
		{name: "expression on data", change: func(e *pipeline.Event) { e.Data = []byte(`{"code":200}`) }},
		{name: "expression on attributes", change: func(e *pipeline.Event) { e.Extensions = map[string]string{"region": "eu9"} }},
		{name: "non-JSON data is null", change: func(e *pipeline.Event) { e.Data = []byte("x") }, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := pipeline.CloneEvent(base)
			tt.change(&e)
			got, err := rt.Match.Match(&e)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}

	out, err := rt.Transform.Transform(base)
	require.NoError(t, err)
	assert.Equal(t, "vm.sluice.probe.state", out.Type)
	assert.Equal(t, "web-1/checked", out.Subject)
	assert.Equal(t, map[string]string{"zone": "eu1", "team": "ops-ingest", "region2": "eu1"}, out.Extensions)
	assert.Equal(t, map[string]string{"region": "eu1", "debug": "x"}, base.Extensions, "the input event is not modified")

	require.NotNil(t, rt.Throttle)
	assert.Equal(t, time.Minute, rt.Throttle.Period)
	key, err := rt.Throttle.Key.Key(&base)
	require.NoError(t, err)
	assert.Equal(t, "web-1", key)
	require.NotNil(t, rt.Throttle.Escalate)
	unhealthy, err := rt.Throttle.Escalate.When.Match(&base)
	require.NoError(t, err)
	assert.True(t, unhealthy)
}

func TestExpressionErrorsAtRuntime(t *testing.T) {
	t.Parallel()
	x, err := config.CompileExpression(`event.attributes.region == "eu1"`)
	require.NoError(t, err)
	_, err = x.Match(&pipeline.Event{ID: "1", Time: time.Now()})
	require.ErrorContains(t, err, "no such key", "a missing key is an error, not a silent false")
	ok, err := x.Match(&pipeline.Event{Extensions: map[string]string{"region": "eu1"}})
	require.NoError(t, err)
	require.True(t, ok)

	x, err = config.CompileExpression(`event.sequence > 5u && event.time > timestamp("2020-01-01T00:00:00Z") && event.severity == "error"`)
	require.NoError(t, err)
	ok, err = x.Match(&pipeline.Event{Sequence: 6, Time: time.Now(), Severity: pipeline.SeverityError})
	require.NoError(t, err)
	require.True(t, ok)

	_, err = config.CompileExpression(`nope == 1`)
	require.ErrorIs(t, err, config.ErrExpression)
	require.ErrorContains(t, err, "undeclared reference")
}

func BenchmarkExpressionMatch(b *testing.B) {
	x, err := config.CompileExpression(`event.level >= 2 && event.type.startsWith("sluice.") && event.attributes.region == "eu1"`)
	require.NoError(b, err)
	e := &pipeline.Event{Type: "sluice.probe.state", Severity: pipeline.SeverityError, Extensions: map[string]string{"region": "eu1"}}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := x.Match(e); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// TestTransformMarksKVPAttributes checks issue 13 item 7: a transform
// lists the kvp* attributes it set in reserved.ExtTransformSet (and
// replaces any list the event came with), and cannot set sluice* names.
func TestTransformMarksKVPAttributes(t *testing.T) {
	t.Parallel()
	f, err := config.Parse("t.yaml", []byte(`
sources: [{name: in, type: gen, with: {message: hi}}]
journal: {dir: /data}
sinks: [{name: out, type: memory, with: {path: /tmp/b}}]
routes:
  - name: r
    from: [in]
    to: [out]
    transform: {set: {kvpresult: FAIL, kvptype: diagnostic, region: eu}}
`), testRegistries(), lookupTestEnv)
	require.NoError(t, err)
	out, err := f.Pipeline.Routes[0].Transform.Transform(pipeline.Event{Extensions: map[string]string{reserved.ExtTransformSet: "kvpname", "kvpname": "x"}})
	require.NoError(t, err)
	assert.Equal(t, "kvpresult,kvptype", out.Extensions[reserved.ExtTransformSet])
	assert.False(t, reserved.SetByTransform(&out, "kvpname"), "a producer's kvpname stays unvouched")

	_, err = config.Parse("t.yaml", []byte(`
sources: [{name: in, type: gen, with: {message: hi}}]
journal: {dir: /data}
sinks: [{name: out, type: memory, with: {path: /tmp/b}}]
routes: [{name: r, from: [in], to: [out], transform: {set: {sluicetransformset: kvpname}}}]
`), testRegistries(), lookupTestEnv)
	require.ErrorContains(t, err, "reserved to the engine")
}
