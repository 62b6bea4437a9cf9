package pipeline_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

type typeMatch string

func (m typeMatch) Match(e *pipeline.Event) (bool, error) { return e.Type == string(m), nil }

type failingTransform struct{}

func (failingTransform) Transform(pipeline.Event) (pipeline.Event, error) {
	return pipeline.Event{}, errors.New("no such key")
}

type renameType string

func (r renameType) Transform(e pipeline.Event) (pipeline.Event, error) {
	e.Type = string(r)
	return e, nil
}

func simInput(at time.Duration, origin, typ, subject string) pipeline.SimulatedInput {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return pipeline.SimulatedInput{At: t0.Add(at), Event: pipeline.Event{ID: typ + subject + at.String(), Source: "/t", Type: typ, Subject: subject, Origin: origin}}
}

// seqs returns the sequences of a sink's deliveries and their offsets.
func seqs(sim pipeline.SinkSimulation) (out []uint64, at []time.Duration) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range sim.Deliveries {
		out = append(out, d.Event.Sequence)
		at = append(at, d.At.Sub(t0))
	}
	return out, at
}

func TestSimulateRoutesFirstMatchTransformAndRejections(t *testing.T) {
	t.Parallel()
	spec := pipeline.Spec{
		Sinks: []pipeline.SinkSpec{{Name: "a"}, {Name: "b"}},
		Routes: []pipeline.RouteSpec{
			{Name: "alarms", From: []string{"web"}, To: []string{"a"}, Match: typeMatch("alarm"), Transform: renameType("vm.alarm")},
			{Name: "rest", From: []string{"web"}, To: []string{"a", "b"}},
			{Name: "broken", From: []string{"db"}, To: []string{"b"}, Transform: failingTransform{}},
		},
	}
	inputs := []pipeline.SimulatedInput{
		simInput(0, "web", "alarm", "x"),
		simInput(time.Second, "web", "info", "x"),
		simInput(2*time.Second, "db", "info", "y"),
		simInput(3*time.Second, "other", "info", "z"),
	}
	sims, err := pipeline.Simulate(spec, inputs, pipeline.NopSettings("test"))
	require.NoError(t, err)
	require.Len(t, sims, 2)

	a := sims[0]
	require.Equal(t, "a", a.Sink)
	require.Len(t, a.Deliveries, 2)
	assert.Equal(t, "alarms", a.Deliveries[0].Route)
	assert.Equal(t, "vm.alarm", a.Deliveries[0].Event.Type, "the transform applied")
	assert.Equal(t, "web", a.Deliveries[0].Event.Origin)
	assert.Equal(t, uint64(1), a.Deliveries[0].Event.Sequence)
	assert.Equal(t, inputs[0].At, a.Deliveries[0].Event.Time, "a missing time is the append time")
	assert.Equal(t, pipeline.IdempotencyKey("/t", inputs[0].Event.ID, "a"), a.Deliveries[0].Key)
	assert.Equal(t, "rest", a.Deliveries[1].Route)

	b := sims[1]
	got, _ := seqs(b)
	assert.Equal(t, []uint64{1, 2}, got, "b gets both web events through rest: routes are chosen per sink")
	assert.Equal(t, "alarm", b.Deliveries[0].Event.Type, "untransformed: alarms does not deliver to b")
	require.Len(t, b.Rejected, 1)
	assert.Equal(t, pipeline.ReasonTransformFailed, b.Rejected[0].Reason)
	assert.Equal(t, uint64(3), b.Rejected[0].Event.Sequence)
}

func TestSimulateThrottleCoalescesAndFlushes(t *testing.T) {
	t.Parallel()
	spec := pipeline.Spec{
		Sinks:  []pipeline.SinkSpec{{Name: "s", Throttle: &pipeline.ThrottleSpec{Period: 10 * time.Second}}},
		Routes: []pipeline.RouteSpec{{Name: "r", From: []string{"src"}, To: []string{"s"}}},
	}
	inputs := []pipeline.SimulatedInput{
		simInput(0, "src", "state", "k"),             // delivered at once
		simInput(2*time.Second, "src", "state", "k"), // held, superseded by the next
		simInput(4*time.Second, "src", "state", "k"), // held until 10s
		simInput(5*time.Second, "src", "state", "other"),
		simInput(12*time.Second, "src", "state", "k"), // held until 20s, released after the last input
	}
	sims, err := pipeline.Simulate(spec, inputs, pipeline.NopSettings("test"))
	require.NoError(t, err)
	got, at := seqs(sims[0])
	assert.Equal(t, []uint64{1, 4, 3, 5}, got)
	assert.Equal(t, []time.Duration{0, 5 * time.Second, 10 * time.Second, 20 * time.Second}, at)
}

func TestSimulateRefusesInputsOutOfOrder(t *testing.T) {
	t.Parallel()
	_, err := pipeline.Simulate(pipeline.Spec{}, []pipeline.SimulatedInput{
		simInput(time.Second, "s", "t", ""), simInput(0, "s", "t", ""),
	}, pipeline.NopSettings("test"))
	require.ErrorIs(t, err, pipeline.ErrInvalidConfig)
}
