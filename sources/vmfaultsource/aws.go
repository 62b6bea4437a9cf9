package vmfaultsource

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/pipeline"
)

// AWS instance metadata paths.
const (
	awsTokenPath     = "/latest/api/token"
	awsScheduledPath = "/latest/meta-data/events/maintenance/scheduled"
	awsSpotPath      = "/latest/meta-data/spot/instance-action"
	awsRebalancePath = "/latest/meta-data/events/recommendations/rebalance"
	// awsTokenEarly is how long before its TTL ends a token is replaced
	// (half the TTL for short ones), as aws-node-termination-handler.
	awsTokenEarly  = 15 * time.Second
	awsKeyPrefix   = ProviderAWS + "/"
	awsTimeLayout  = "2 Jan 2006 15:04:05 GMT"
	defaultAWSTTL  = time.Hour
	maxAWSTokenTTL = 6 * time.Hour
)

// awsScheduled is one element of events/maintenance/scheduled.
type awsScheduled struct {
	Code              string `json:"Code"`
	Description       string `json:"Description"`
	State             string `json:"State"`
	EventID           string `json:"EventId"`
	NotBefore         string `json:"NotBefore"`
	NotAfter          string `json:"NotAfter"`
	NotBeforeDeadline string `json:"NotBeforeDeadline"`
}

// awsStates maps the scheduled events' State to Sluice's.
var awsStates = map[string]string{"active": MaintenanceScheduled, "completed": MaintenanceCompleted, "canceled": MaintenanceCancelled}

// parseAWSScheduled reads the scheduled events array; every event needs
// an EventId, a known State and readable times.
func parseAWSScheduled(b []byte, vm string) ([]observation, error) {
	var evs []awsScheduled
	if err := json.Unmarshal(b, &evs); err != nil {
		return nil, fmt.Errorf("%w: aws scheduled events: %w", ErrMalformed, err)
	}
	out := make([]observation, 0, len(evs))
	seen := map[string]bool{}
	for i, e := range evs {
		state, ok := awsStates[e.State]
		switch {
		case e.EventID == "" || strings.ContainsAny(e.EventID, "/\x00") || seen[e.EventID]:
			return nil, fmt.Errorf("%w: aws scheduled event %d: bad or repeated EventId %q", ErrMalformed, i, e.EventID)
		case !ok:
			return nil, fmt.Errorf("%w: aws scheduled event %s: unknown State %q", ErrMalformed, e.EventID, e.State)
		}
		seen[e.EventID] = true
		d := maintenanceData{Provider: ProviderAWS, EventID: e.EventID, Kind: e.Code, Status: e.State, Description: e.Description, VM: vm}
		for _, f := range []struct {
			name, v string
			to      *time.Time
		}{{"NotBefore", e.NotBefore, &d.NotBefore}, {"NotAfter", e.NotAfter, &d.NotAfter}, {"NotBeforeDeadline", e.NotBeforeDeadline, &d.NotBeforeDeadline}} {
			if f.v == "" {
				continue
			}
			t, err := parseAWSTime(f.v)
			if err != nil {
				return nil, fmt.Errorf("%w: aws scheduled event %s: %s: %w", ErrMalformed, e.EventID, f.name, err)
			}
			*f.to = t
		}
		out = append(out, observation{id: e.EventID, state: state, notBefore: d.NotBefore, data: d})
	}
	return out, nil
}

// parseAWSTime reads "21 Jan 2019 09:00:43 GMT" or RFC 3339.
func parseAWSTime(s string) (time.Time, error) {
	for _, layout := range []string{awsTimeLayout, time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is neither \"2 Jan 2006 15:04:05 GMT\" nor RFC 3339", s)
}

// parseAWSSpot reads spot/instance-action: {"action", "time"}.
func parseAWSSpot(b []byte, vm string) (observation, error) {
	var a struct {
		Action string `json:"action"`
		Time   string `json:"time"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return observation{}, fmt.Errorf("%w: aws spot instance-action: %w", ErrMalformed, err)
	}
	t, err := parseAWSTime(a.Time)
	if err != nil || a.Action == "" || strings.ContainsAny(a.Action, "/\x00") {
		return observation{}, fmt.Errorf("%w: aws spot instance-action: action %q, time %q", ErrMalformed, a.Action, a.Time)
	}
	id := "spot-" + a.Action + "-" + t.Format("20060102T150405Z")
	return observation{id: id, state: MaintenanceScheduled, notBefore: t, data: maintenanceData{
		Provider: ProviderAWS, EventID: id, Kind: "spot-" + a.Action, NotBefore: t, VM: vm,
		Description: "spot instance interruption notice: " + a.Action,
	}}, nil
}

// parseAWSRebalance reads events/recommendations/rebalance: {"noticeTime"}.
func parseAWSRebalance(b []byte, vm string) (observation, error) {
	var r struct {
		NoticeTime string `json:"noticeTime"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return observation{}, fmt.Errorf("%w: aws rebalance recommendation: %w", ErrMalformed, err)
	}
	t, err := parseAWSTime(r.NoticeTime)
	if err != nil {
		return observation{}, fmt.Errorf("%w: aws rebalance recommendation: %w", ErrMalformed, err)
	}
	id := "rebalance-" + t.Format("20060102T150405Z")
	return observation{id: id, state: MaintenanceScheduled, data: maintenanceData{
		Provider: ProviderAWS, EventID: id, Kind: "rebalance-recommendation", NoticeTime: t, VM: vm,
		Description: "EC2 instance rebalance recommendation",
	}}, nil
}

// awsSource polls the EC2 instance metadata service (IMDSv2) for
// scheduled events, spot interruption notices and rebalance
// recommendations.
type awsSource struct {
	set   pipeline.Settings
	cfg   Config
	vm    string
	http  *httpDoer
	tel   *telemetry
	retry *retrier
	track *tracker

	token    string
	tokenEnd time.Time
}

func newAWSSource(set pipeline.Settings, cfg Config) (*awsSource, error) {
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("vmfault telemetry: %w", err)
	}
	return &awsSource{
		set: set, cfg: cfg, vm: cfg.VMName, tel: tel, track: newTracker(ProviderAWS, awsKeyPrefix, cfg.VMName),
		http:  &httpDoer{client: newMetadataClient(), timeout: cfg.Timeout, limit: int64(cfg.MaxResponseBytes), now: set.Clock.Now},
		retry: &retrier{cfg: cfg.Retry, clock: set.Clock, tel: tel, log: set.Logger},
	}, nil
}

// Run implements pipeline.Source.
func (s *awsSource) Run(ctx context.Context, host pipeline.SourceHost) error {
	return runMetadataLoop(ctx, host, s.set, s.cfg.Interval, s.track, s.retry, s.http, "aws instance metadata", s.poll, nil)
}

// ensureToken returns a session token, fetching one (PUT with the TTL)
// when there is none or it ends within awsTokenEarly.
func (s *awsSource) ensureToken(ctx context.Context) (string, error) {
	now := s.set.Clock.Now()
	early := min(awsTokenEarly, s.cfg.TokenTTL/2)
	if s.token != "" && now.Before(s.tokenEnd.Add(-early)) {
		return s.token, nil
	}
	req, err := http.NewRequest(http.MethodPut, strings.TrimRight(s.cfg.Endpoint, "/")+awsTokenPath, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", strconv.Itoa(int(s.cfg.TokenTTL/time.Second)))
	a, err := s.http.do(ctx, "aws imdsv2 token", req, http.StatusOK)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(a.body))
	if tok == "" || strings.ContainsAny(tok, "\r\n") {
		return "", fmt.Errorf("%w: aws imdsv2 token: empty or multi-line", ErrMalformed)
	}
	s.token, s.tokenEnd = tok, now.Add(s.cfg.TokenTTL)
	return tok, nil
}

// get reads path with the session token; a 401 drops the token and is
// retried once with a new one. found is false on 404.
func (s *awsSource) get(ctx context.Context, path string) (body []byte, found bool, err error) {
	for attempt := 0; ; attempt++ {
		tok, err := s.ensureToken(ctx)
		if err != nil {
			return nil, false, err
		}
		req, err := http.NewRequest(http.MethodGet, strings.TrimRight(s.cfg.Endpoint, "/")+path, nil)
		if err != nil {
			return nil, false, err
		}
		req.Header.Set("X-aws-ec2-metadata-token", tok)
		a, err := s.http.do(ctx, "aws "+path, req, http.StatusOK, http.StatusNotFound)
		if statusOf(err) == http.StatusUnauthorized && attempt == 0 {
			s.token = ""
			continue
		}
		if err != nil {
			return nil, false, err
		}
		return a.body, a.code == http.StatusOK, nil
	}
}

func (s *awsSource) poll(ctx context.Context, host pipeline.SourceHost) (err error) {
	ctx, span := s.tel.tracer.Start(ctx, "vmfault.poll", trace.WithAttributes(
		attribute.String("sluice.source", s.set.ID), attribute.String("sluice.vmfault.provider", ProviderAWS)))
	defer func() {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, errorReason(err))
		}
		span.End()
	}()
	var obs []observation
	body, found, err := s.get(ctx, awsScheduledPath)
	if err != nil {
		return err
	}
	if found {
		if obs, err = parseAWSScheduled(body, s.vm); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		path  string
		parse func([]byte, string) (observation, error)
	}{{awsSpotPath, parseAWSSpot}, {awsRebalancePath, parseAWSRebalance}} {
		body, found, err := s.get(ctx, p.path)
		if err != nil {
			return err
		}
		if !found { // 404: no notice, the normal case
			continue
		}
		o, err := p.parse(body, s.vm)
		if err != nil {
			return err
		}
		obs = append(obs, o)
	}
	next, events, err := s.track.diff(obs, s.set.Clock.Now().UTC())
	if err != nil {
		return err
	}
	return emitMaintenance(ctx, host, s.track, next, events, s.tel, s.set.Logger)
}
