package httpsource

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// TestCheckStringsFirstError: of several extensions with a control
// character, the error names the first in sorted order, every time (it
// used to name whichever came first in map order).
func TestCheckStringsFirstError(t *testing.T) {
	t.Parallel()
	e := pipeline.Event{ID: "1", Source: "/s", Type: "t", Extensions: map[string]string{
		"ext5": "a\nb", "ext2": "a\tb", "ext4": "\x00", "ext1": "a\x7fb", "ext3": "\u0085", "ok": "fine",
	}}
	for range 100 {
		err := checkStrings(&e)
		require.ErrorIs(t, err, pipeline.ErrInvalidCloudEvent)
		require.ErrorContains(t, err, `attribute "ext1" contains a control character`)
	}
}
