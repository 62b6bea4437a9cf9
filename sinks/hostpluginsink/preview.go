package hostpluginsink

import (
	"errors"

	"github.com/sluice-dev/sluice/pipeline"
)

var _ pipeline.Encoder = (*sink)(nil)

// Encode implements pipeline.Encoder: the HealthService payloads Deliver
// would POST for batch, one a line in the order Deliver sends them (the
// newest due report of each observation). It runs the error states and
// report periods on copies of the observations' states, so an
// observation inside its report period shows no payload, and the sink is
// left unchanged. An event no rule maps is an error. It does no I/O and
// must not be called concurrently with Deliver.
func (s *sink) Encode(batch []pipeline.Delivery) ([]byte, error) {
	plan, failed := s.schedule(batch)
	if len(failed) > 0 {
		errs := make([]error, len(failed))
		for i, f := range failed {
			errs[i] = f.Err
		}
		return nil, errors.Join(errs...)
	}
	var out []byte
	for i := range plan {
		if plan[i].report != nil {
			out = append(append(out, s.body(&plan[i])...), '\n')
		}
	}
	return out, nil
}
