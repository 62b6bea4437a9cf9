package pipeline

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hub keeps outcomes only for unbound watches, from their floor up,
// and nothing once every watch is bound or closed.
func TestCompletionHubPrunes(t *testing.T) {
	t.Parallel()
	h := newCompletionHub("s")
	h.publish(nil, 10)
	early := h.open() // floor 10
	var cs []Completion
	for seq := uint64(10); seq < 30; seq++ {
		cs = append(cs, Completion{Sink: "s", Seq: seq, Outcome: OutcomeDelivered})
	}
	h.publish(cs, 30)
	late := h.open() // floor 30
	assert.Len(t, h.outcomes, 20)
	h.bind(early, 12)
	<-early.done
	assert.Equal(t, OutcomeDelivered, early.c.Outcome)
	assert.Empty(t, h.outcomes, "the remaining unbound watch needs nothing below 30")
	h.publish([]Completion{{Seq: 31, Outcome: OutcomeDeadLettered}}, 32)
	assert.Len(t, h.outcomes, 1)
	h.release(late)
	assert.Empty(t, h.outcomes)
	h.release(early)
	assert.Zero(t, h.active.Load())
	require.Empty(t, h.bound)
	require.Empty(t, h.unbound)
}

// A watch bound to a record the consumer has not reached waits; one the
// consumer passed without an outcome was skipped.
func TestCompletionHubSkipped(t *testing.T) {
	t.Parallel()
	h := newCompletionHub("s")
	waiting, passed := h.open(), h.open()
	h.bind(waiting, 5)
	h.publish(nil, 3)
	select {
	case <-waiting.done:
		t.Fatal("resolved before the consumer reached it")
	default:
	}
	h.publish(nil, 6)
	<-waiting.done
	assert.Equal(t, OutcomeSkipped, waiting.c.Outcome)
	h.bind(passed, 4)
	<-passed.done
	assert.Equal(t, OutcomeSkipped, passed.c.Outcome)
	h.release(waiting)
	h.release(passed)
	assert.Empty(t, h.bound)
}
