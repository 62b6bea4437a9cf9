package vessink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/sluice-dev/sluice/pipeline"
)

var _ pipeline.Encoder = (*sink)(nil)

// Encode implements pipeline.Encoder: the request bodies Deliver would
// POST for batch, one a line, in order ({"event":...} for a request of
// one event, {"eventList":[...]} for several), split like Deliver splits
// them (domain runs, max_batch_events, max_batch_bytes). It maps with a
// copy of the alarm table and heartbeat state, so a clear shows its
// raise's startEpochMicrosec as Deliver would send it, and the sink is
// left unchanged; a heartbeat Deliver would thin out shows no body. An
// event that cannot be mapped is an error. It does no I/O and must not
// be called concurrently with Deliver.
func (s *sink) Encode(batch []pipeline.Delivery) ([]byte, error) {
	m := s.m.preview()
	ctx := context.Background()
	items := make([]item, 0, len(batch))
	var bad []error
	for i := range batch {
		r, err := m.mapDelivery(ctx, &batch[i])
		switch {
		case err != nil:
			bad = append(bad, fmt.Errorf("event %d: %w", batch[i].Event.Sequence, err))
		case !r.skip:
			items = append(items, item{index: i, domain: r.domain, body: r.body})
		}
	}
	if err := errors.Join(bad...); err != nil {
		return nil, err
	}
	var out []byte
	for _, chunk := range chunks(items, s.cfg.MaxBatchEvents, int(s.cfg.MaxBatchBytes)) {
		out = append(append(out, requestBody(chunk)...), '\n')
	}
	return out, nil
}

// preview returns a copy of m whose alarm table and heartbeat state are
// copies, so mapping with it changes nothing of m; it logs nothing.
func (m *mapper) preview() *mapper {
	c := *m
	c.log = slog.New(slog.DiscardHandler)
	c.alarms = m.alarms.clone()
	c.beats = m.beats.clone()
	return &c
}

// clone returns a deep copy of a, with nothing dirty.
func (a *alarmTable) clone() *alarmTable {
	c := newAlarmTable()
	for k, eps := range a.alarms {
		c.alarms[k] = slices.Clone(eps)
	}
	return c
}

// clone returns a copy of h: the same intervals in force and sent.
func (h *heartbeats) clone() *heartbeats {
	c := &heartbeats{configured: h.configured, sent: maps.Clone(h.sent)}
	c.commanded.Store(h.commanded.Load())
	return c
}
