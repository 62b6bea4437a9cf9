package filesink

import "github.com/sluice-dev/sluice/pipeline"

var _ pipeline.Encoder = (*sink)(nil)

// Encode implements pipeline.Encoder: the CloudEvents JSON lines Deliver
// appends to the file for batch.
func (s *sink) Encode(batch []pipeline.Delivery) ([]byte, error) { return appendLines(nil, batch), nil }
