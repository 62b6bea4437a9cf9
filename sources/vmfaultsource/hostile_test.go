package vmfaultsource

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fakenova"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
)

// hostile serves body with status 200 to every request (the AWS token PUT
// included), and a JSON-looking Content-Type.
func hostile(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Subject-Token", "tok")
		w.Header().Set("ETag", "e1")
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/auth/tokens") {
			w.WriteHeader(http.StatusCreated)
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Every response parser, reached through a real poll, turns a hostile
// answer (a body over max_response_bytes, a member of the wrong type, a
// missing member) into an error with the reason "malformed", and emits
// nothing: never a panic, a fault, a clear or "nothing scheduled".
func TestHostileAnswersAreErrors(t *testing.T) {
	const limit = 4 << 10
	huge := `{"x":"` + strings.Repeat("a", 2*limit) + `"}`
	type poller func(t *testing.T, url string) error
	metadata := func(provider string) poller {
		return func(t *testing.T, url string) error {
			cfg := defaultConfig()
			cfg.Provider, cfg.Endpoint, cfg.VMName, cfg.MaxResponseBytes = provider, url, "vm", limit
			src, err := newSource(pipeline.NopSettings("h"), cfg.withDefaults())
			require.NoError(t, err)
			host := pipelinetest.NewRecordingHost("h")
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			switch s := src.(type) {
			case *azureSource:
				err = s.poll(ctx, host)
			case *awsSource:
				err = s.poll(ctx, host)
			case *gcpSource:
				err = s.poll(ctx, host, s.keys[0])
				if err == nil {
					err = s.poll(ctx, host, s.keys[1])
				}
			}
			assert.Empty(t, host.Events())
			return err
		}
	}
	openstack := func(t *testing.T, url string) error {
		f := newFake(t)
		cfg := osConfig(f, WatchEntry{All: true})
		cfg.Auth.URL, cfg.MaxResponseBytes = url+"/v3", limit
		src, err := newSource(pipeline.NopSettings("h"), cfg.withDefaults())
		require.NoError(t, err)
		s := src.(*openStackSource)
		require.NoError(t, s.Provision(t.Context()))
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		host := pipelinetest.NewRecordingHost("h")
		err = s.poll(ctx, host, s.watchers[0])
		assert.Empty(t, host.Events())
		return err
	}
	for _, tc := range []struct {
		name string
		poll poller
		body string
	}{
		{"keystone huge", openstack, huge},
		{"keystone token not an object", openstack, `{"token": "x"}`},
		{"keystone no catalog", openstack, `{"token": {"expires_at": "2099-01-01T00:00:00.000000Z", "project": {"id": "p"}}}`},
		{"keystone catalog wrong type", openstack, `{"token": {"expires_at": "2099-01-01T00:00:00.000000Z", "project": {"id": "p"}, "catalog": {}}}`},
		{"azure huge", metadata(ProviderAzure), huge},
		{"azure events wrong type", metadata(ProviderAzure), `{"DocumentIncarnation": 1, "Events": {}}`},
		{"azure missing incarnation", metadata(ProviderAzure), `{"Events": []}`},
		{"azure resources wrong type", metadata(ProviderAzure), `{"DocumentIncarnation": 1, "Events": [{"EventId": "x", "EventStatus": "Scheduled", "Resources": "vm"}]}`},
		{"aws huge", metadata(ProviderAWS), huge},
		{"aws scheduled not a list", metadata(ProviderAWS), `{"EventId": "x"}`},
		{"gcp huge", metadata(ProviderGCP), strings.Repeat("A", 2*limit)},
		{"gcp value not a word", metadata(ProviderGCP), `{"maintenance_status": "PENDING"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.poll(t, hostile(t, tc.body))
			require.Error(t, err)
			assert.Equal(t, "malformed", errorReason(err), "%v", err)
		})
	}
}

// A Nova listing that is huge, or whose record has a field of the wrong
// type or no status, fails the poll with reason malformed, and leaves an
// open episode open.
func TestHostileNovaAnswersChangeNothing(t *testing.T) {
	for name, body := range map[string]string{
		"huge":          `{"servers":[` + strings.Repeat(" ", 64<<10) + `]}`,
		"no status":     `{"servers":[{"id":"` + idA + `","name":"web"}]}`,
		"status number": `{"servers":[{"id":"` + idA + `","status":7}]}`,
		"servers null":  `{"servers":null}`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			f.Put(errorServer(idA, "web"))
			cfg := osConfig(f, WatchEntry{All: true})
			cfg.MaxResponseBytes = 32 << 10
			r := start(t, cfg)
			events(t, r.host, 1)
			replies := make([]fakenova.Reply, 5)
			for i := range replies {
				replies[i] = fakenova.Reply{Status: http.StatusOK, Body: body}
			}
			f.Inject(fakenova.RouteList, replies...)
			f.Put(activeServer(idA, "web"))
			waitCount(t, f, fakenova.RouteList, 5)
			require.Len(t, r.host.Events(), 1, "no clear from a hostile answer")
			evs := events(t, r.host, 2) // then the real answer clears it
			assert.Equal(t, ClearRecovered, evs[1].data.Reason)
		})
	}
}
