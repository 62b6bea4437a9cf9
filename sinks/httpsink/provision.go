package httpsink

import (
	"context"

	"github.com/sluice-dev/sluice/pipeline"
)

var _ pipeline.Provisioner = (*sink)(nil)

// Provision implements pipeline.Provisioner: it
// reads the TLS files and the secret files, so that a missing or
// unreadable one is reported before Start, by `sluice validate` too. It
// neither connects nor sends. Start runs it when nobody did.
func (s *sink) Provision(ctx context.Context) error {
	return s.creds.Provision(ctx) // errors name the field; the runner names the sink
}
