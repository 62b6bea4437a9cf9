package httpsink_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/httpsink"
)

// TestEchoedCredentialsNotStored checks issue 13 item 6: a peer whose
// error answer echoes the request's Authorization and API key header
// does not put them into the delivery error (what dead letters store).
func TestEchoedCredentialsNotStored(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("bad request; you sent Authorization: " + r.Header.Get("Authorization") + " and key " + r.Header.Get("X-Api-Key")))
	}))
	t.Cleanup(srv.Close)
	cfg := httpsink.NewFactory().DefaultConfig().(*httpsink.Config)
	cfg.URL = srv.URL + "/e"
	cfg.Basic = &httpsink.BasicAuth{Username: "alice", Password: "hunter2-pw"}
	cfg.Headers = map[string]pipeline.Secret{"X-Api-Key": "k3y-value-42"}
	s := startSink(t, pipeline.NopSettings("out"), cfg)
	err := s.Deliver(t.Context(), pipelinetest.SampleDeliveries(1, 1))
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "you sent Authorization: [REDACTED]")
	for _, secret := range []string{"hunter2-pw", "k3y-value-42", "YWxpY2U6aHVudGVyMi1wdw=="} {
		assert.NotContains(t, msg, secret)
	}
}
