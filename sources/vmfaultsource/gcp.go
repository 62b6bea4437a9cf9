package vmfaultsource

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/pipeline"
)

const (
	gcpEventPath = "/computeMetadata/v1/instance/maintenance-event"
	gcpNone      = "NONE"
	gcpKeyPrefix = ProviderGCP + "/"
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
	for _, r := range v {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' {
			return "", fmt.Errorf("%w: gcp maintenance-event: unexpected value %q", ErrMalformed, v)
		}
	}
	return v, nil
}

// gcpSource follows the GCE metadata server's maintenance-event with
// hanging GETs (wait_for_change and the last ETag).
type gcpSource struct {
	set   pipeline.Settings
	cfg   Config
	vm    string
	http  *httpDoer
	tel   *telemetry
	retry *retrier
	track *tracker
	etag  string
}

func newGCPSource(set pipeline.Settings, cfg Config) (*gcpSource, error) {
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("vmfault telemetry: %w", err)
	}
	return &gcpSource{
		set: set, cfg: cfg, vm: cfg.VMName, tel: tel, track: newTracker(gcpKeyPrefix, cfg.VMName),
		// The request hangs up to gcpHang; the timeout covers it.
		http:  &httpDoer{client: newMetadataClient(), timeout: gcpHang + cfg.Timeout, limit: int64(cfg.MaxResponseBytes), now: set.Clock.Now},
		retry: &retrier{cfg: cfg.Retry, clock: set.Clock, tel: tel, log: set.Logger},
	}, nil
}

// Run implements pipeline.Source: one hanging GET after another, with
// the interval as a pause between them.
func (s *gcpSource) Run(ctx context.Context, host pipeline.SourceHost) error {
	return runMetadataLoop(ctx, host, s.set, s.cfg.Interval, s.track, s.retry, s.http, "gcp maintenance-event", s.poll, nil)
}

func (s *gcpSource) url() string {
	q := url.Values{}
	q.Set("wait_for_change", "true")
	etag := s.etag
	if etag == "" {
		etag = "0" // differs from any ETag: answered at once, as Google's sample does
	}
	q.Set("last_etag", etag)
	q.Set("timeout_sec", strconv.Itoa(int(gcpHang/time.Second)))
	return strings.TrimRight(s.cfg.Endpoint, "/") + gcpEventPath + "?" + q.Encode()
}

func (s *gcpSource) poll(ctx context.Context, host pipeline.SourceHost) (err error) {
	ctx, span := s.tel.tracer.Start(ctx, "vmfault.poll", trace.WithAttributes(
		attribute.String("sluice.source", s.set.ID), attribute.String("sluice.vmfault.provider", ProviderGCP)))
	defer func() {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, errorReason(err))
		}
		span.End()
	}()
	req, err := http.NewRequest(http.MethodGet, s.url(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Metadata-Flavor", "Google")
	a, err := s.http.do(ctx, "gcp maintenance-event", req, http.StatusOK) // 503 during maintenance: retried
	if err != nil {
		return err
	}
	v, err := parseGCPValue(a.body)
	if err != nil {
		return err
	}
	etag := a.header.Get("ETag")
	now := s.set.Clock.Now().UTC()
	var obs []observation
	if v != gcpNone {
		id := "gcp-" + v + "-" + etag
		first := now
		if kn, ok := s.track.known[id]; ok {
			first = kn.FirstSeen
		}
		obs = append(obs, observation{id: id, state: MaintenanceScheduled, notBefore: first, data: maintenanceData{
			Provider: ProviderGCP, EventID: id, Kind: v, Status: v, VM: s.vm, NotBefore: first,
		}})
	}
	next, events, err := s.track.diff(obs, now)
	if err != nil {
		return err
	}
	if err := emitMaintenance(ctx, host, s.track, next, events, s.tel, s.set.Logger); err != nil {
		return err
	}
	s.etag = etag
	return nil
}
