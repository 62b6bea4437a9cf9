package partial_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/internal/partial"
)

var (
	errBusy = errors.New("busy")
	errBad  = pipeline.Permanent(errors.New("bad"))
)

func TestOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		n       int
		run     func(o *partial.Outcomes)
		want    []int // BatchError indices; nil: not a BatchError
		wantErr error
	}{
		{"all taken", 3, func(o *partial.Outcomes) { o.Took() }, nil, nil},
		{"one of one", 1, func(o *partial.Outcomes) { o.Failed(ctx, errBusy, false, 0) }, nil, errBusy},
		{"nothing taken, all transient", 2, func(o *partial.Outcomes) {
			o.Failed(ctx, errBusy, true, 0)
			o.Unsent(1)
		}, nil, errBusy},
		{"nothing taken, one refused", 2, func(o *partial.Outcomes) {
			o.Refused(1, errBad)
			o.Failed(ctx, errBusy, false, 0)
		}, []int{0, 1}, nil},
		{"some taken", 3, func(o *partial.Outcomes) {
			o.Took()
			o.Failed(ctx, errBusy, false, 2, 1)
		}, []int{1, 2}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var o partial.Outcomes
			tt.run(&o)
			err := o.Err(tt.n)
			if tt.want == nil {
				assert.Equal(t, tt.wantErr, err)
				return
			}
			var be *pipeline.BatchError
			require.ErrorAs(t, err, &be)
			var got []int
			for _, f := range be.Failed {
				got = append(got, f.Index)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestOutcomesStop(t *testing.T) {
	t.Parallel()
	var o partial.Outcomes
	for i := range partial.MaxStreak - 1 {
		o.Failed(context.Background(), errBusy, false, i)
		require.NoError(t, o.Stopped())
	}
	o.Took()
	o.Failed(context.Background(), errBusy, false, 9)
	require.NoError(t, o.Stopped(), "a success ends the streak")
	o.Failed(context.Background(), errBusy, true, 10)
	require.ErrorIs(t, o.Stopped(), errBusy, "halt stops at once")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var c partial.Outcomes
	c.Failed(ctx, errBusy, false, 0)
	require.Error(t, c.Stopped(), "an ended ctx stops")
}
