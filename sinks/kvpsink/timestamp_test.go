package kvpsink_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/sluice-dev/sluice/sinks/kvpsink"
)

func TestFormatTimestamp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Time
		want string
	}{
		// PROTOCOLS.md §1.5, verified against Python's datetime.
		{time.Unix(1700000000, 123456000), "2023-11-14T22:13:20.123456Z"},
		{time.Unix(1700000000, 0), "2023-11-14T22:13:20Z"},
		{time.Unix(1700000001, 500000000), "2023-11-14T22:13:21.500000Z"},
		{time.Unix(1700000000, 123456700), "2023-11-14T22:13:20.123457Z"}, // rounds
		{time.Unix(1700000000, 999999500), "2023-11-14T22:13:21Z"},        // tie to even, into the next second
		{time.Unix(1700000000, 123456500), "2023-11-14T22:13:20.123456Z"}, // tie to even (down)
		{time.Unix(1700000000, 123457500), "2023-11-14T22:13:20.123458Z"}, // tie to even (up)
		{time.Unix(1700000000, 400), "2023-11-14T22:13:20Z"},
		{time.Unix(-2, 500000000), "1969-12-31T23:59:58.500000Z"},
		{time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600)), "2025-01-02T02:04:05Z"},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "9999-12-31T23:59:59.999999Z"},
		{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), "0001-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, kvpsink.FormatTimestamp(tt.in), "FormatTimestamp(%s)", tt.in)
	}
}
