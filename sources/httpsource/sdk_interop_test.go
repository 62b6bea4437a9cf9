package httpsource_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sdkEvent builds an event with the CloudEvents Go SDK, the reference
// producer: attributes with spaces, quotes and non-ASCII text exercise the
// binary mode's percent-encoding.
func sdkEvent(t *testing.T, id string) cloudevents.Event {
	t.Helper()
	e := cloudevents.NewEvent()
	e.SetID(id)
	e.SetSource("/sdk/producer")
	e.SetType("acme.test.sdk")
	e.SetSubject(`Euro € 😀 "quoted" 100%`)
	e.SetTime(time.Date(2025, 1, 2, 3, 4, 5, 123_000_000, time.UTC))
	e.SetExtension("tenant", "acme corp")
	e.SetExtension("severity", "warning")
	require.NoError(t, e.SetData(cloudevents.ApplicationJSON, map[string]any{"up": true}))
	return e
}

func TestCloudEventsSDKClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ctx  func(context.Context) context.Context
	}{
		{name: "binary", ctx: cloudevents.WithEncodingBinary},
		{name: "structured", ctx: cloudevents.WithEncodingStructured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t)
			client, err := cloudevents.NewClientHTTP(cehttp.WithTarget(srv.url), cehttp.WithClient(*srv.client))
			require.NoError(t, err)

			sent := sdkEvent(t, "sdk-"+tt.name)
			result := client.Send(tt.ctx(t.Context()), sent)
			require.True(t, cloudevents.IsACK(result), "send: %v", result)

			evs := srv.host.Events()
			require.Len(t, evs, 1)
			got := evs[0]
			assert.Equal(t, sent.ID(), got.ID)
			assert.Equal(t, sent.Source(), got.Source)
			assert.Equal(t, sent.Type(), got.Type)
			assert.Equal(t, sent.Subject(), got.Subject, "percent-decoding and JSON agree with the SDK")
			assert.True(t, sent.Time().Equal(got.Time))
			assert.Equal(t, "acme corp", got.Extensions["tenant"])
			assert.Equal(t, "warning", got.Severity.String())
			assert.Equal(t, "application/json", got.DataContentType)
			assert.JSONEq(t, `{"up":true}`, string(got.Data))
		})
	}
}

func TestCloudEventsSDKSeesRefusals(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	client, err := cloudevents.NewClientHTTP(cehttp.WithTarget(srv.url), cehttp.WithClient(*srv.client))
	require.NoError(t, err)

	bad := sdkEvent(t, "sdk-bad")
	bad.SetExtension("severity", "bogus") // a valid extension for the SDK, not a Sluice severity
	result := client.Send(t.Context(), bad)
	require.True(t, cloudevents.IsNACK(result), "send: %v", result)
	var httpResult *cehttp.Result
	require.ErrorAs(t, result, &httpResult)
	assert.Equal(t, http.StatusBadRequest, httpResult.StatusCode)
	assert.Empty(t, srv.host.Events())
}

func TestCloudEventsSDKBatch(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	var parts []string
	for _, id := range []string{"b1", "b2", "b3"} {
		e := sdkEvent(t, id)
		b, err := json.Marshal(e)
		require.NoError(t, err)
		parts = append(parts, string(b))
	}
	got := srv.do(t, batched("["+strings.Join(parts, ",")+"]"))
	require.Equal(t, http.StatusAccepted, got.status)
	evs := srv.host.Events()
	require.Len(t, evs, 3)
	for i, id := range []string{"b1", "b2", "b3"} {
		assert.Equal(t, id, evs[i].ID)
		assert.JSONEq(t, `{"up":true}`, string(evs[i].Data))
	}
}
