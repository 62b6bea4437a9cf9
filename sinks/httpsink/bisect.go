package httpsink

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"

	"github.com/sluice-dev/sluice/internal/httpclient"
	"github.com/sluice-dev/sluice/pipeline"
)

// deliverBatches sends the batch as arrays within the size limits, in
// order. Events that cannot be encoded fail without a request.
func (s *sink) deliverBatches(ctx context.Context, c *http.Client, batch []pipeline.Delivery, enc *encoded) ([]pipeline.DeliveryFailure, error) {
	var failed []pipeline.DeliveryFailure
	for _, chunk := range enc.chunks(s.cfg.MaxEvents, int(s.cfg.MaxBytes)) {
		var refused []pipeline.DeliveryFailure
		requests := 0
		err := httpclient.Bisect(ctx, chunk, httpclient.Bisection[int]{
			Send: func(ctx context.Context, idx []int) error {
				requests++
				return s.send(ctx, c, request{body: enc.batchBody(idx), key: batchKey(batch, idx), events: len(idx)})
			},
			Splittable: canBisect,
			Refuse: func(idx []int, err error) error {
				for _, i := range idx {
					refused = append(refused, pipeline.DeliveryFailure{Index: i, Err: err})
				}
				return nil
			},
		})
		if err != nil {
			return nil, err
		}
		if len(refused) > 0 {
			s.logger.InfoContext(ctx, "http sink isolated refused events",
				slog.Int("events", len(chunk)), slog.Int("refused", len(refused)), slog.Int("requests", requests))
		}
		failed = append(failed, refused...)
	}
	for i, err := range enc.bad {
		if err != nil {
			failed = append(failed, pipeline.DeliveryFailure{Index: i, Err: err})
		}
	}
	// Chunks come in order, but failed encodings were appended last.
	slices.SortFunc(failed, func(a, b pipeline.DeliveryFailure) int { return cmp.Compare(a.Index, b.Index) })
	return failed, nil
}

// canBisect reports whether a permanent refusal may be about the events
// of a request (see httpclient.Bisectable), so that httpclient.Bisect
// sends each half in turn until the refused events stand alone.
func canBisect(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && httpclient.Bisectable(se.StatusCode)
}
