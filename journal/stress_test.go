package journal_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal"
	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
)

// TestConcurrentReadAppendRetention runs appenders, tailing readers that
// commit cursors, Stats and Verify while small segments rotate and
// drop_oldest retention removes them under the readers.
func TestConcurrentReadAppendRetention(t *testing.T) {
	t.Parallel()
	j := journaltest.MustOpenWith(t, t.TempDir(), journal.Options{
		SegmentMaxBytes: 32 << 10, RetentionMaxBytes: 192 << 10, FullPolicy: journal.FullPolicyDropOldest,
		CursorFlushInterval: 5 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const appenders, batches = 4, 60
	var wg, readers sync.WaitGroup
	for range appenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range batches {
				_, err := j.Append(ctx, pipeline.AppendBatch{Events: payload256(8)})
				assert.NoError(t, err)
			}
		}()
	}
	for r := range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			name := []string{"a", "b", "c"}[r]
			next, err := j.Cursor(ctx, name)
			if !assert.NoError(t, err) {
				return
			}
			for {
				recs, err := j.Read(ctx, next, pipeline.ReadLimit{MaxRecords: 7 + r})
				if errors.Is(err, context.Canceled) {
					return
				}
				if !assert.NoError(t, err) {
					return
				}
				for i := 1; i < len(recs); i++ {
					assert.Equal(t, recs[i-1].Seq+1, recs[i].Seq)
				}
				assert.GreaterOrEqual(t, recs[0].Seq, next)
				next = recs[len(recs)-1].Seq + 1
				assert.NoError(t, j.CommitCursor(ctx, name, next))
			}
		}()
	}
	readers.Add(1)
	go func() {
		defer readers.Done()
		for ctx.Err() == nil {
			_, err := j.Stats(ctx)
			if !errors.Is(err, context.Canceled) {
				assert.NoError(t, err)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	wg.Wait()
	st := stats(t, j)
	require.Equal(t, uint64(appenders*batches*8), st.Last)
	cancel()
	readers.Wait()
	_, err := j.Verify(context.Background(), 0, 0)
	require.NoError(t, err)
}
