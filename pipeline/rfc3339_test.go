package pipeline_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

func TestParseTime(t *testing.T) {
	t.Parallel()
	plus1 := time.FixedZone("", 3600)
	tests := []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{in: "2024-05-01T10:00:00Z", want: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
		{in: "2024-05-01t10:00:00z", want: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
		{in: "2024-05-01t10:00:00.5+01:00", want: time.Date(2024, 5, 1, 10, 0, 0, 5e8, plus1)},
		{in: "2016-12-31T23:59:60Z", want: time.Date(2016, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{in: "2016-12-31t23:59:60.25z", want: time.Date(2016, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{in: "2017-01-01T00:59:60+01:00", want: time.Date(2017, 1, 1, 0, 59, 59, 999999999, plus1)},
		{in: "2015-06-30T23:59:60Z", want: time.Date(2015, 6, 30, 23, 59, 59, 999999999, time.UTC)},
		{in: "2016-12-30T23:59:60Z", wantErr: "leap second"},
		{in: "2016-12-31T22:59:60Z", wantErr: "leap second"},
		{in: "2016-12-31T23:59:61Z", wantErr: "second out of range"},
		{in: "2016-12-31 23:59:59Z", wantErr: "cannot parse"},
		{in: "2024-05-01T10:00:00", wantErr: "cannot parse"},
		{in: "yesterday", wantErr: "cannot parse"},
		{in: "", wantErr: "cannot parse"},
	}
	for _, tt := range tests {
		got, err := pipeline.ParseTime(tt.in)
		if tt.wantErr != "" {
			require.ErrorContains(t, err, tt.wantErr, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.True(t, tt.want.Equal(got), "%s: got %s, want %s", tt.in, got, tt.want)
	}
}

func TestUnmarshalCloudEventTimeRFC3339(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"2024-05-01t10:00:00z", "2016-12-31T23:59:60Z"} {
		e, err := pipeline.UnmarshalCloudEventJSON([]byte(`{"specversion":"1.0","id":"a","source":"/s","type":"t","time":"` + in + `"}`))
		require.NoError(t, err, in)
		assert.False(t, e.Time.IsZero(), in)
	}
}

// FuzzParseTime checks that ParseTime never panics and agrees with
// time.RFC3339Nano wherever that parses.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2024-05-01T10:00:00Z", "2024-05-01t10:00:00z", "2016-12-31T23:59:60Z", "2017-01-01T00:59:60+01:00", "x", "2016-12-31T23:59:60"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := pipeline.ParseTime(s)
		if want, werr := time.Parse(time.RFC3339Nano, s); werr == nil {
			if err != nil || !got.Equal(want) {
				t.Fatalf("%q: got %v, %v; time.Parse gives %v", s, got, err, want)
			}
		}
		if err == nil && got.Second() == 60 {
			t.Fatalf("%q: second 60 kept", s)
		}
	})
}
