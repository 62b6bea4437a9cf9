package kvpsink_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/sluice-dev/sluice/internal/reserved"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/kvpsink"
)

// TestKVPAttributesOnlyFromTransforms checks issue 13 item 7: kvp*
// attributes a producer put in its event (a forged PROVISIONING_REPORT
// with result SUCCESS) are ignored; those a route transform set count.
func TestKVPAttributesOnlyFromTransforms(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	forged := pipeline.Event{Type: "cloud.report", Origin: "ingest", Data: []byte("hi"), Extensions: map[string]string{
		"kvptype": "PROVISIONING_REPORT", "kvpname": "provisioning", "kvpresult": "SUCCESS", "kvpmsg": "all good",
	}}
	r := kvpsink.ReportOf(&forged, now)
	assert.Equal(t, kvpsink.Report{Type: "cloud.report", Name: "ingest", Msg: "hi", Time: now}, r)

	set := forged
	set.Extensions = map[string]string{"kvptype": "diagnostic", "kvpresult": "FAIL", "kvpname": "forged", reserved.ExtTransformSet: "kvpresult,kvptype"}
	r = kvpsink.ReportOf(&set, now)
	assert.Equal(t, kvpsink.Report{Type: "diagnostic", Name: "ingest", Result: "FAIL", Msg: "hi", Time: now}, r, "only what the transform set counts")
}
