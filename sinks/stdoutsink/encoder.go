package stdoutsink

import (
	"fmt"

	"github.com/sluice-dev/sluice/pipeline"
)

var _ pipeline.Encoder = (*sink)(nil)

// Encode implements pipeline.Encoder: the lines Deliver writes for batch.
func (s *sink) Encode(batch []pipeline.Delivery) ([]byte, error) { return s.appendBatch(nil, batch) }

// appendBatch appends one line per delivery to buf in the sink's format.
// An event that cannot be encoded is a permanent error.
func (s *sink) appendBatch(buf []byte, batch []pipeline.Delivery) ([]byte, error) {
	for i := range batch {
		var err error
		if buf, err = s.encode(buf, &batch[i].Event); err != nil {
			e := &batch[i].Event
			return buf, pipeline.Permanent(fmt.Errorf("encode event %q (sequence %d): %w", e.ID, e.Sequence, err))
		}
	}
	return buf, nil
}
