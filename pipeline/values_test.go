package pipeline_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

func TestParseByteSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    pipeline.ByteSize
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "512", want: 512},
		{in: "512B", want: 512},
		{in: "64KiB", want: 64 << 10},
		{in: "2GiB", want: 2 << 30},
		{in: " 1 MiB ", want: 1 << 20},
		{in: "10MB", want: 10_000_000},
		{in: "1kB", want: 1000},
		{in: "1.5KiB", want: 1536},
		{in: "1TiB", want: 1 << 40},
		{in: "", wantErr: "invalid size"},
		{in: "GiB", wantErr: "invalid size"},
		{in: "-1", wantErr: "negative"},
		{in: "12XB", wantErr: "invalid size"},
		{in: "9999999999TiB", wantErr: "too large"},
		{in: "NaN", wantErr: "invalid size"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := pipeline.ParseByteSize(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			// String round-trips.
			back, err := pipeline.ParseByteSize(got.String())
			require.NoError(t, err)
			require.Equal(t, got, back)
		})
	}
}

func TestSeverity(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"} {
		s, err := pipeline.ParseSeverity(strings.ToUpper(name))
		require.NoError(t, err)
		require.Equal(t, name, s.String())
	}
	w, err := pipeline.ParseSeverity("warn")
	require.NoError(t, err)
	require.Equal(t, pipeline.SeverityWarning, w)
	require.Less(t, pipeline.SeverityWarning, pipeline.SeverityCritical)
	_, err = pipeline.ParseSeverity("loud")
	require.ErrorIs(t, err, pipeline.ErrInvalidSeverity)
	var zero pipeline.Severity
	require.Equal(t, pipeline.SeverityInfo, zero)
}

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	s := pipeline.Secret("hunter2")
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", slog.Any("token", s))
	for _, out := range []string{s.String(), fmt.Sprintf("%v %s %+v %#v", s, s, s, s), logged.String()} {
		assert.NotContains(t, out, "hunter2")
	}
	txt, err := s.MarshalText()
	require.NoError(t, err)
	assert.NotContains(t, string(txt), "hunter2")
	require.Equal(t, "hunter2", s.Reveal())
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	k := pipeline.IdempotencyKey("/src", "id-1", "sink-a")
	require.Len(t, k, 32)
	require.Equal(t, k, pipeline.IdempotencyKey("/src", "id-1", "sink-a"), "stable")
	require.NotEqual(t, k, pipeline.IdempotencyKey("/src", "id-1", "sink-b"), "differs per sink")
	require.NotEqual(t, k, pipeline.IdempotencyKey("/src", "id-2", "sink-a"), "differs per event")
	require.NotEqual(t, pipeline.IdempotencyKey("/a", "b/c", "s"), pipeline.IdempotencyKey("/a/b", "c", "s"), "no ambiguity at field boundaries")
	// The derivation is part of the contract with sinks' peers (keys of
	// earlier deliveries must match): pinned values, including inputs
	// longer than the stack scratch buffer.
	require.Equal(t, "ed457338840c7327f166ed77a8539fc0", k)
	require.Equal(t, "96a296d224f285c67bee93c30f8a3091", pipeline.IdempotencyKey("", "", ""))
	require.Equal(t, "70a0c04ee769b3a85527550f07e5ab29",
		pipeline.IdempotencyKey("/probes/web-1", "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000", string(make([]byte, 300))))
}

// TestIdempotencyKeyAllocations: the runner derives a key per delivery;
// only the key string is allocated.
func TestIdempotencyKeyAllocations(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() { _ = pipeline.IdempotencyKey("/src", "id-1", "sink-a") })
	require.LessOrEqual(t, allocs, 1.0)
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	f := pipeline.NewSinkFactory("thing", func() *nopConfig { return &nopConfig{} }, nil)
	r, err := pipeline.NewRegistry(f)
	require.NoError(t, err)
	got, ok := r.Lookup("thing")
	require.True(t, ok)
	require.Equal(t, "thing", got.Type())
	require.ErrorIs(t, r.Register(f), pipeline.ErrDuplicateType)
	require.Error(t, r.Register(pipeline.NewSinkFactory("Bad Name", func() *nopConfig { return &nopConfig{} }, nil)))
	require.Equal(t, []string{"thing"}, r.Types())
}

func TestFieldErrors(t *testing.T) {
	t.Parallel()
	err := pipeline.PrefixFieldErrors("tls", errors.New("missing ca"))
	var fe *pipeline.FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "tls", fe.Field, "a non-FieldError is attributed to the prefix")
	err = pipeline.PrefixFieldErrors("tls", pipeline.FieldErrorf("ca_file", "missing"))
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "tls.ca_file", fe.Field)
	require.Equal(t, "tls.ca_file: missing", fe.Error())
}

func TestRetryConfigValidate(t *testing.T) {
	t.Parallel()
	good := pipeline.DefaultRetryConfig()
	require.NoError(t, good.Validate())
	bad := pipeline.RetryConfig{Initial: 0, Max: -1, Multiplier: 0.5, Jitter: 2, MaxElapsed: -1}
	err := bad.Validate()
	for _, f := range []string{"initial", "max", "multiplier", "jitter", "max_elapsed"} {
		require.ErrorContains(t, err, f+":")
	}
	b := good.NewBackOff(nil)
	first := b.NextBackOff()
	require.InDelta(t, good.Initial, first, float64(good.Initial)*good.Jitter+1)
}

type nopConfig struct{}

func (*nopConfig) Validate() error { return nil }
