package httpsink

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/internal/partial"
)

// deliverBatches sends the batch as arrays within the size limits, in
// order. Events that cannot be encoded fail without a request. A
// transient failure inside a bisected chunk fails the events of that
// chunk that were not taken yet.
func (s *sink) deliverBatches(ctx context.Context, c *http.Client, batch []pipeline.Delivery, enc *encoded, out *partial.Outcomes) {
	for _, chunk := range enc.chunks(s.cfg.MaxEvents, int(s.cfg.MaxBytes)) {
		if out.Stopped() != nil {
			out.Unsent(chunk...)
			continue
		}
		refused, requests := 0, 0
		done := make(map[int]bool, len(chunk))
		err := httpclient.Bisect(ctx, chunk, httpclient.Bisection[int]{
			Send: func(ctx context.Context, idx []int) error {
				requests++
				err := s.send(ctx, c, request{body: enc.batchBody(idx), key: batchKey(batch, idx), events: len(idx)})
				if err == nil {
					out.Took()
					for _, i := range idx {
						done[i] = true
					}
				}
				return err
			},
			Splittable: canBisect,
			Refuse: func(idx []int, err error) error {
				for _, i := range idx {
					out.Refused(i, err)
					done[i] = true
				}
				refused += len(idx)
				return nil
			},
		})
		if err != nil {
			var rest []int
			for _, i := range chunk {
				if !done[i] {
					rest = append(rest, i)
				}
			}
			out.Failed(ctx, err, haltAfter(err), rest...)
		}
		if refused > 0 {
			s.logger.InfoContext(ctx, "http sink isolated refused events",
				slog.Int("events", len(chunk)), slog.Int("refused", refused), slog.Int("requests", requests))
		}
	}
	for i, err := range enc.bad {
		if err != nil {
			out.Refused(i, err)
		}
	}
}

// canBisect reports whether a permanent refusal may be about the events
// of a request (see httpclient.Bisectable), so that httpclient.Bisect
// sends each half in turn until the refused events stand alone.
func canBisect(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && httpclient.Bisectable(se.StatusCode)
}
