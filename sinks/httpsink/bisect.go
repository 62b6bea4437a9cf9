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
		b := bisector{s: s, c: c, batch: batch, enc: enc}
		if err := b.send(ctx, chunk); err != nil {
			return nil, err
		}
		if len(b.failed) > 0 {
			s.logger.InfoContext(ctx, "http sink isolated refused events",
				slog.Int("events", len(chunk)), slog.Int("refused", len(b.failed)), slog.Int("requests", b.requests))
		}
		failed = append(failed, b.failed...)
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

// bisector delivers one chunk. When the peer refuses a request of
// several events permanently, and the status can be about the content
// (see httpclient.Bisectable), it sends each half in turn, recursively,
// until the refused events stand alone: k bad events among n cost O(k log n)
// requests, and every other event is delivered exactly once by this call.
type bisector struct {
	s        *sink
	c        *http.Client
	batch    []pipeline.Delivery
	enc      *encoded
	failed   []pipeline.DeliveryFailure
	requests int
}

// send delivers the events idx (indices into the batch). It returns only
// transient errors; permanent refusals land in b.failed.
func (b *bisector) send(ctx context.Context, idx []int) error {
	b.requests++
	err := b.s.send(ctx, b.c, request{body: b.enc.batchBody(idx), key: batchKey(b.batch, idx), events: len(idx)})
	if err == nil {
		return nil
	}
	if !pipeline.IsPermanent(err) {
		return err
	}
	if len(idx) == 1 || !canBisect(err) {
		for _, i := range idx {
			b.failed = append(b.failed, pipeline.DeliveryFailure{Index: i, Err: err})
		}
		return nil
	}
	mid := len(idx) / 2
	if err := b.send(ctx, idx[:mid]); err != nil {
		return err
	}
	return b.send(ctx, idx[mid:])
}

func canBisect(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && httpclient.Bisectable(se.StatusCode)
}
