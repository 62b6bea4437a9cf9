package pipeline

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type subjectKey struct{}

func (subjectKey) Key(e *Event) (string, error) { return e.Subject, nil }

type typeIs string

func (t typeIs) Match(e *Event) (bool, error) { return e.Type == string(t), nil }

func delivery(seq uint64, typ, subject string) Delivery {
	return Delivery{Event: Event{Sequence: seq, Type: typ, Subject: subject}}
}

func TestThrottlePeriodKeepsLatest(t *testing.T) {
	t.Parallel()
	th := newThrottle(ThrottleSpec{Period: time.Minute})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	res, sup, err := th.offer(delivery(1, "state", "web"), t0)
	require.NoError(t, err)
	assert.Equal(t, throttlePass, res)
	assert.Nil(t, sup)
	res, _, _ = th.offer(delivery(2, "state", "web"), t0.Add(10*time.Second))
	assert.Equal(t, throttleHeld, res)
	res, sup, _ = th.offer(delivery(3, "state", "web"), t0.Add(20*time.Second))
	assert.Equal(t, throttleHeld, res)
	require.NotNil(t, sup)
	assert.Equal(t, uint64(2), sup.Event.Sequence, "a newer state replaces the held one")
	res, _, _ = th.offer(delivery(4, "state", "db"), t0.Add(20*time.Second))
	assert.Equal(t, throttlePass, res, "keys are independent")
	assert.Equal(t, uint64(3), th.oldestPending())
	at, ok := th.next()
	require.True(t, ok)
	assert.Equal(t, t0.Add(time.Minute), at)
	assert.Empty(t, th.due(t0.Add(59*time.Second)))
	due := th.due(t0.Add(time.Minute))
	require.Len(t, due, 1)
	assert.Equal(t, uint64(3), due[0].Event.Sequence)
	assert.Zero(t, th.oldestPending())
	res, _, _ = th.offer(delivery(5, "state", "web"), t0.Add(90*time.Second))
	assert.Equal(t, throttleHeld, res, "the period restarts at the delayed delivery")
}

func TestThrottleEscalation(t *testing.T) {
	t.Parallel()
	th := newThrottle(ThrottleSpec{Key: subjectKey{}, Escalate: &EscalateSpec{When: typeIs("down"), After: 5 * time.Minute}})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	res, _, _ := th.offer(delivery(1, "down", "web"), t0)
	assert.Equal(t, throttleHeld, res, "a failure is not reported before it has held for 5 minutes")
	res, sup, _ := th.offer(delivery(2, "up", "web"), t0.Add(time.Minute))
	assert.Equal(t, throttlePass, res, "recovery is reported at once")
	require.NotNil(t, sup, "and the blip is never reported")
	res, _, _ = th.offer(delivery(3, "down", "web"), t0.Add(2*time.Minute))
	assert.Equal(t, throttleHeld, res)
	res, _, _ = th.offer(delivery(4, "down", "web"), t0.Add(6*time.Minute))
	assert.Equal(t, throttleHeld, res, "still under 5 minutes since the condition started at 2m")
	at, ok := th.next()
	require.True(t, ok)
	assert.Equal(t, t0.Add(7*time.Minute), at)
	due := th.due(t0.Add(7 * time.Minute))
	require.Len(t, due, 1, "once the condition has held long enough, the latest state goes without a new event")
	assert.Equal(t, uint64(4), due[0].Event.Sequence)
	res, _, _ = th.offer(delivery(5, "down", "web"), t0.Add(8*time.Minute))
	assert.Equal(t, throttlePass, res, "escalated: further failures pass")
}

func TestThrottleMaxKeys(t *testing.T) {
	t.Parallel()
	th := newThrottle(ThrottleSpec{Period: time.Hour, MaxKeys: 2})
	now := time.Now()
	for i, s := range []string{"a", "b"} {
		res, _, _ := th.offer(delivery(uint64(i+1), "t", s), now)
		assert.Equal(t, throttlePass, res)
	}
	res, _, _ := th.offer(delivery(3, "t", "c"), now)
	assert.Equal(t, throttleOverflow, res, "past MaxKeys, events pass unthrottled rather than grow memory")
}
