package httpsink

import (
	"errors"

	"github.com/sluice-dev/sluice/pipeline"
)

var _ pipeline.Encoder = (*sink)(nil)

// Encode implements pipeline.Encoder: the request bodies Deliver sends
// for batch, one a line: each event's CloudEvents JSON (with its
// idempotencykey) in structured mode, the JSON arrays of the batch's
// requests in batch mode. An event that cannot be sent is an error.
func (s *sink) Encode(batch []pipeline.Delivery) ([]byte, error) {
	enc := encode(batch)
	if err := errors.Join(enc.bad...); err != nil {
		return nil, err
	}
	var out []byte
	if s.cfg.Mode == ModeBatch {
		for _, idx := range enc.chunks(s.cfg.MaxEvents, int(s.cfg.MaxBytes)) {
			out = append(append(out, enc.batchBody(idx)...), '\n')
		}
		return out, nil
	}
	for i := range batch {
		out = append(append(out, enc.event(i)...), '\n')
	}
	return out, nil
}
