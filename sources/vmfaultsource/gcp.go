package vmfaultsource

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/pipeline"
)

const (
	gcpEventPath    = "/computeMetadata/v1/instance/maintenance-event"
	gcpUpcomingPath = "/computeMetadata/v1/instance/upcoming-maintenance"
	gcpNone         = "NONE"
	gcpKeyPrefix    = ProviderGCP + "/"
	// gcpUpcomingPrefix prefixes the state keys of upcoming-maintenance
	// windows (not under gcpKeyPrefix: each tracker owns its prefix).
	gcpUpcomingPrefix = "gcpu/"
	// gcpHang is how long one hanging GET waits for a change (timeout_sec).
	gcpHang = 60 * time.Second
	// gcpMaxValue bounds a maintenance-event value.
	gcpMaxValue = 128
)

// parseGCPValue reads a maintenance-event answer: NONE or an event name
// such as MIGRATE_ON_HOST_MAINTENANCE (upper-case letters, digits and
// underscores).
func parseGCPValue(b []byte) (string, error) {
	v := strings.TrimSpace(string(b))
	if v == "" || len(v) > gcpMaxValue {
		return "", fmt.Errorf("%w: gcp maintenance-event: empty or over %d bytes", ErrMalformed, gcpMaxValue)
	}
	if !gcpWord(v) {
		return "", fmt.Errorf("%w: gcp maintenance-event: unexpected value %q", ErrMalformed, v)
	}
	return v, nil
}

// gcpWord reports whether v is upper-case letters, digits and
// underscores.
func gcpWord(v string) bool {
	for _, r := range v {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return v != ""
}

// gcpSource follows two keys of the GCE metadata server with hanging GETs
// (wait_for_change and the last ETag): instance/maintenance-event and
// instance/upcoming-maintenance.
type gcpSource struct {
	set   pipeline.Settings
	cfg   Config
	vm    string
	http  *httpDoer
	tel   *telemetry
	retry *retrier
	keys  []*gcpKey
}

// gcpKey is one followed metadata key: its tracker, the ETag of its last
// answer, and how an answer becomes observations.
type gcpKey struct {
	path  string
	query url.Values
	track *tracker
	etag  string
	// observe turns a 200 answer into the key's current events.
	observe func(body []byte, etag string, now time.Time, t *tracker) ([]observation, error)
	// missingIsNone: a 404 means the key does not exist here (machine
	// families without upcoming-maintenance), i.e. nothing; it does not
	// hang, so the next request waits gcpHang.
	missingIsNone bool
}

func newGCPSource(set pipeline.Settings, cfg Config) (*gcpSource, error) {
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("vmfault telemetry: %w", err)
	}
	s := &gcpSource{
		set: set, cfg: cfg, vm: cfg.VMName, tel: tel,
		// The request hangs up to gcpHang; the timeout covers it.
		http:  &httpDoer{client: newMetadataClient(), timeout: gcpHang + cfg.Timeout, limit: int64(cfg.MaxResponseBytes), now: set.Clock.Now},
		retry: &retrier{cfg: cfg.Retry, clock: set.Clock, tel: tel, log: set.Logger},
	}
	s.keys = []*gcpKey{
		{path: gcpEventPath, track: newTracker(ProviderGCP, gcpKeyPrefix, cfg.VMName), observe: s.observeEvent},
		{path: gcpUpcomingPath, query: url.Values{"alt": {"json"}}, track: newTracker(ProviderGCP, gcpUpcomingPrefix, cfg.VMName),
			observe: s.observeUpcoming, missingIsNone: true},
	}
	return s, nil
}

// Run implements pipeline.Source: for each key, one hanging GET after
// another, with the interval as a pause between them.
func (s *gcpSource) Run(ctx context.Context, host pipeline.SourceHost) error {
	var wg sync.WaitGroup
	errs := make([]error, len(s.keys))
	for i, k := range s.keys {
		wg.Go(func() {
			errs[i] = runMetadataLoop(ctx, host, s.set, s.cfg.Interval, k.track, s.retry, s.http, "gcp "+k.path,
				func(ctx context.Context, host pipeline.SourceHost) error { return s.poll(ctx, host, k) }, nil)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *gcpSource) url(k *gcpKey) string {
	q := url.Values{}
	for name, v := range k.query {
		q[name] = v
	}
	q.Set("wait_for_change", "true")
	etag := k.etag
	if etag == "" {
		etag = "0" // differs from any ETag: answered at once, as Google's sample does
	}
	q.Set("last_etag", etag)
	q.Set("timeout_sec", strconv.Itoa(int(gcpHang/time.Second)))
	return strings.TrimRight(s.cfg.Endpoint, "/") + k.path + "?" + q.Encode()
}

func (s *gcpSource) poll(ctx context.Context, host pipeline.SourceHost, k *gcpKey) (err error) {
	ctx, span := s.tel.tracer.Start(ctx, "vmfault.poll", trace.WithAttributes(
		attribute.String("sluice.source", s.set.ID), attribute.String("sluice.vmfault.provider", ProviderGCP),
		attribute.String("sluice.vmfault.key", k.path)))
	defer func() {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, errorReason(err))
		}
		span.End()
	}()
	req, err := http.NewRequest(http.MethodGet, s.url(k), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Metadata-Flavor", "Google")
	want := []int{http.StatusOK}
	if k.missingIsNone {
		want = append(want, http.StatusNotFound)
	}
	a, err := s.http.do(ctx, "gcp "+k.path, req, want...) // 503 during maintenance: retried
	if err != nil {
		return err
	}
	now := s.set.Clock.Now().UTC()
	var obs []observation
	if a.code == http.StatusOK {
		if obs, err = k.observe(a.body, a.header.Get("ETag"), now, k.track); err != nil {
			return err
		}
	}
	next, events, err := k.track.diff(obs, now)
	if err != nil {
		return err
	}
	if err := emitMaintenance(ctx, host, k.track, next, events, s.tel, s.set.Logger); err != nil {
		return err
	}
	k.etag = a.header.Get("ETag")
	if a.code == http.StatusNotFound {
		k.etag = ""
		if !sleep(ctx, s.set.Clock, gcpHang) {
			return ctx.Err()
		}
	}
	return nil
}

// observeEvent reads maintenance-event: a value other than NONE is one
// event "gcp-VALUE-ETAG", scheduled since it was first seen.
func (s *gcpSource) observeEvent(body []byte, etag string, now time.Time, t *tracker) ([]observation, error) {
	v, err := parseGCPValue(body)
	if err != nil || v == gcpNone {
		return nil, err
	}
	id := "gcp-" + v + "-" + etag
	first := now
	if kn, ok := t.known[id]; ok {
		first = kn.FirstSeen
	}
	return []observation{{id: id, state: MaintenanceScheduled, notBefore: first, data: maintenanceData{
		Provider: ProviderGCP, EventID: id, Kind: v, Status: v, VM: s.vm, NotBefore: first,
	}}}, nil
}

// observeUpcoming reads upcoming-maintenance: a window is one event
// "gcp-upcoming-TYPE-START", in the state of its maintenance_status.
func (s *gcpSource) observeUpcoming(body []byte, _ string, _ time.Time, _ *tracker) ([]observation, error) {
	u, err := parseGCPUpcoming(body)
	if err != nil || u == nil {
		return nil, err
	}
	id := "gcp-upcoming-" + u.Type + "-" + u.WindowStart.Format("20060102T150405Z")
	desc := "upcoming maintenance window"
	if len(u.Reasons) > 0 {
		desc += " (" + strings.Join(u.Reasons, ", ") + ")"
	}
	if u.CanReschedule {
		desc += "; can be rescheduled"
	}
	return []observation{{id: id, state: u.state, notBefore: u.WindowStart, data: maintenanceData{
		Provider: ProviderGCP, EventID: id, Kind: u.Type, Status: u.Status, VM: s.vm,
		NotBefore: u.WindowStart, NotAfter: u.WindowEnd, Description: desc,
	}}}, nil
}
