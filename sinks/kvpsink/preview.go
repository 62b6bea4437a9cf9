package kvpsink

import (
	"fmt"

	"github.com/sluice-dev/sluice/pipeline"
)

var _ pipeline.Encoder = (*sink)(nil)

// Encode implements pipeline.Encoder: the pool records Deliver would
// append for batch, shown one "KEY = VALUE" line per record (each field
// without its NUL padding, as cloud-init and the host decode it). It does
// no I/O and changes nothing; events without a time show the clock's now,
// and a sink not provisioned yet (sluice test) has not read the boot
// incarnation, which its keys then show as 0.
func (s *sink) Encode(batch []pipeline.Delivery) ([]byte, error) {
	var buf []byte
	now := s.clock.Now()
	for i := range batch {
		r := ReportOf(&batch[i].Event, now)
		buf, _ = s.enc.Append(buf, &r, DeliveryID(&batch[i]))
	}
	recs, err := DecodeRecords(buf)
	if err != nil {
		return nil, fmt.Errorf("kvp preview: %w", err)
	}
	var out []byte
	for _, r := range recs {
		out = fmt.Appendf(out, "%s = %s\n", r.Key, r.Value)
	}
	return out, nil
}
