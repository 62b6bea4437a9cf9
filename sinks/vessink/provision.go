package vessink

import (
	"context"

	"github.com/sluice-dev/sluice/pipeline"
)

var _ pipeline.Provisioner = (*sink)(nil)

// Provision implements pipeline.Provisioner: it
// reads the TLS files and the secret files, so that a missing or
// unreadable one is reported before Start, by `sluice validate` too, and
// a state_file still to migrate into the sink state (an unreadable one is
// logged at Start, not an error: the alarm table only improves clears).
// It neither connects, nor sends, nor changes a file. Start runs it when
// nobody did.
func (s *sink) Provision(ctx context.Context) error {
	if err := s.creds.Provision(ctx); err != nil {
		return err // it names the field; the runner names the sink
	}
	s.migration.provision(s.state)
	return nil
}
