package vessink_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// TestBodiesAreValidUTF8 (D8): data that came in as bytes with a JSON
// content type but holds invalid UTF-8 (HTTP binary mode) is sent as
// dataBase64, losslessly, in every domain: VES bodies stay valid UTF-8
// JSON that conforms to the schema (the sink embedded it raw, 0xFF and
// all, as jsonObjects).
func TestBodiesAreValidUTF8(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	data := []byte("{\"a\":\"\xff\",\"to\":\"unhealthy\",\"n\":{\"b\":\"\xfe\"}}")
	for _, typ := range []string{"sluice.lb.request", "sluice.vm.fault", "sluice.heartbeat", "sluice.probe.state"} {
		for _, ct := range []string{"application/json", "application/cloudevents+json", "text/json; charset=utf-8", ""} {
			t.Run(typ+"/"+ct, func(t *testing.T) {
				t.Parallel()
				c := newCollector(t, pki)
				s := startSink(t, pipeline.NopSettings("ves"), testConfig(c, pki))
				d := delivery(1, typ, "vm1", t0, pipeline.SeverityError, data)
				d.Event.DataContentType = ct
				_ = s.Deliver(t.Context(), []pipeline.Delivery{d}) // a state change without states may fail; the body is what matters
				for _, r := range c.Requests() {
					require.True(t, utf8.Valid(r.Body), "body %q", r.Body)
					require.True(t, json.Valid(r.Body), "body %q", r.Body)
					assert.Contains(t, string(r.Body), base64.StdEncoding.EncodeToString(data), "the data, losslessly")
				}
				c.requireConforming(t)
			})
		}
	}
}
