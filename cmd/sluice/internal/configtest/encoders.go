package configtest

import (
	"context"
	"fmt"

	"github.com/sluice-dev/sluice/pipeline"
)

// encoders holds, per sink name, the built sink (never provisioned or
// started) and its type, to show deliveries in the sink's encoding.
type encoders map[string]encoderSink

type encoderSink struct {
	typ  string
	sink pipeline.Sink
	enc  pipeline.Encoder // nil when the sink has no Encoder
}

// buildEncoders builds every sink of spec with its factory, as New would
// before provisioning: no file is opened and nothing is contacted. A sink
// that cannot be built is shown as CloudEvents JSON.
func buildEncoders(ctx context.Context, spec pipeline.Spec, regs pipeline.Registries) encoders {
	out := encoders{}
	for _, ks := range spec.Sinks {
		es := encoderSink{typ: ks.Type}
		if f, ok := regs.Sinks.Lookup(ks.Type); ok {
			if s, err := f.NewSink(ctx, pipeline.NopSettings(ks.Name), ks.Config); err == nil && s != nil {
				es.sink = s
				es.enc, _ = s.(pipeline.Encoder)
			}
		}
		out[ks.Name] = es
	}
	return out
}

func (e encoders) close(ctx context.Context) {
	for _, es := range e {
		if es.sink != nil {
			_ = es.sink.Close(ctx) // never started: nothing to flush
		}
	}
}

// encode returns d as sink encodes it, and how that encoding is named.
// Without an Encoder it is the CloudEvents JSON line; an event the sink
// cannot encode says why.
func (e encoders) encode(sink string, d pipeline.Delivery) (string, string) {
	es := e[sink]
	if es.enc == nil {
		b, err := pipeline.MarshalCloudEventJSON(&d.Event)
		if err != nil {
			return "CloudEvents JSON", fmt.Sprintf("(cannot be encoded: %v)", err)
		}
		return "CloudEvents JSON", string(b)
	}
	name := "as the " + es.typ + " sink encodes it"
	b, err := es.enc.Encode([]pipeline.Delivery{d})
	if err != nil {
		return name, fmt.Sprintf("(the %s sink cannot encode it: %v)", es.typ, err)
	}
	return name, string(b)
}
