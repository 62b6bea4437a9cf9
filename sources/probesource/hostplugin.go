package probesource

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/pipeline"
)

// HostGAPlugin protocol constants (PROTOCOLS.md §2.4, WALinuxAgent's
// hostplugin.py).
const (
	// HostPluginAPIVersion is the API version WALinuxAgent requires in
	// /versions and sends as x-ms-version.
	HostPluginAPIVersion = "2015-09-01"
	headerVersion        = "x-ms-version"
	headerContainerID    = "x-ms-containerid"
)

// hostPluginChecker watches the Azure HostGAPlugin the way WALinuxAgent's
// monitor does: GET /versions until the plugin supports API 2015-09-01
// (each answer is a GuestAgentPluginVersions observation), and GET /health
// every check (the GuestAgentPluginHeartbeat signal).
type hostPluginChecker struct {
	client        *http.Client
	clock         pipeline.Clock
	base          string
	containerID   string
	versionsEvery time.Duration
	timeout       time.Duration
	maxBody       int64
	probe         string

	// Versions state, kept between the probe's (sequential) checks, and
	// as it was before the last check, for rollback.
	versionsState
	before versionsState
}

type versionsState struct {
	versionsChecked bool
	supported       bool
	lastVersions    time.Time
}

var (
	_ checker    = (*hostPluginChecker)(nil)
	_ rollbacker = (*hostPluginChecker)(nil)
)

func newHostPluginChecker(s spec, tr *http.Transport, clock pipeline.Clock) *hostPluginChecker {
	c := s.own
	h := &hostPluginChecker{
		// WALinuxAgent's http.client follows no redirect.
		client:        &http.Client{Transport: tr, CheckRedirect: redirectPolicy(RedirectsNone, 0, nil)},
		clock:         clock,
		base:          "http://" + hostPluginAddress(c.Endpoint),
		containerID:   c.ContainerID,
		versionsEvery: c.VersionsInterval.Duration(),
		timeout:       s.timeout,
		maxBody:       int64(c.MaxResponseBytes),
		probe:         s.name,
	}
	if h.maxBody == 0 {
		h.maxBody = defaultMaxResponseBytes
	}
	return h
}

// hostPluginAddress returns host:port for an endpoint written as a host,
// [v6], v6 or host:port.
func hostPluginAddress(endpoint string) string {
	if endpoint == "" {
		endpoint = defaultHostPlugin
	}
	if host, port, err := net.SplitHostPort(endpoint); err == nil {
		return net.JoinHostPort(host, port)
	}
	return net.JoinHostPort(strings.Trim(endpoint, "[]"), hostPluginPort)
}

func (h *hostPluginChecker) target() string { return h.base }

func (h *hostPluginChecker) rollback() { h.versionsState = h.before }

func (h *hostPluginChecker) check(ctx context.Context, now time.Time) outcome {
	h.before = h.versionsState
	var out outcome
	if h.versionsDue(now) {
		v := h.versions(ctx, now)
		h.versionsChecked, h.lastVersions = true, now
		h.supported = v.Supported
		out.extra = append(out.extra, extraEvent{typ: TypeHostPluginVersions, healthy: v.Healthy, data: v})
	}
	status, _, _, err := h.get(ctx, "/health", false)
	out.statusCode = status
	switch {
	case err != "":
		out.err = err
	case status == http.StatusOK || status == http.StatusCreated || status == http.StatusAccepted:
		out.healthy = true
	default:
		out.err = fmt.Sprintf("status %d (want 200, 201 or 202)", status)
		out.upstreamFailure = status == http.StatusBadGateway
	}
	return out
}

// versionsDue: until the plugin supports the API version, every check;
// then every versions_interval, or never when that is 0.
func (h *hostPluginChecker) versionsDue(now time.Time) bool {
	switch {
	case !h.versionsChecked || !h.supported:
		return true
	case h.versionsEvery <= 0:
		return false
	}
	return now.Sub(h.lastVersions) >= h.versionsEvery
}

// versionsData is the data of a sluice.hostplugin.versions event.
type versionsData = eventtypes.HostPluginVersionsData

// versions reads /versions and judges the answer as WALinuxAgent's
// get_api_versions does: a 200/201/202 is healthy; another status is
// healthy unless it is a 5xx other than 502 (502 means the plugin's
// upstream failed, not the plugin: request_failed_at_hostplugin), and its
// Value is read_response_error's text; a network error, a 410 and a 400
// for an invalid container are unhealthy with an empty Value. Unlike the
// agent, which retries 5xx, 403 and 429 answers within one call (up to 6
// attempts over about 30 s, then an HttpError), each check reports the
// answer it got; the interval is the retry.
func (h *hostPluginChecker) versions(ctx context.Context, now time.Time) versionsData {
	start := h.clock.Now()
	status, reason, body, err := h.get(ctx, "/versions", true)
	v := versionsData{
		Probe: h.probe, Kind: KindHostPlugin, Endpoint: h.base, APIVersion: HostPluginAPIVersion,
		Versions: []string{}, StatusCode: status, CheckedAt: now.UTC(),
		LatencyMS: durationMS(h.clock.Now().Sub(start)),
	}
	switch {
	case err != "":
		v.Error = err
	case status == http.StatusOK || status == http.StatusCreated || status == http.StatusAccepted:
		v.Healthy = true
		text := bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
		v.Supported = bytes.Contains(text, []byte(HostPluginAPIVersion))
		v.Versions = parseVersions(text)
	case status == http.StatusGone,
		status == http.StatusBadRequest && bytes.Contains(body, []byte("InvalidContainerConfiguration")):
		// WALinuxAgent raises ResourceGoneError or InvalidContainerError
		// (both HttpErrors) for these: unhealthy, with an empty Value.
		v.Error = fmt.Sprintf("status %d (want 200, 201 or 202): the goal state is stale", status)
	default:
		if status == http.StatusBadRequest {
			// restutil.http_request already read the body of a 400 (to
			// look for InvalidContainerConfiguration), so the agent's
			// read_response_error finds it empty.
			body = nil
		}
		v.Value = readResponseError(status, reason, body)
		v.Healthy = status < 500 || status == http.StatusBadGateway
		v.UpstreamFailure = status == http.StatusBadGateway
		v.Error = fmt.Sprintf("status %d (want 200, 201 or 202)", status)
	}
	return v
}

var versionPattern = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)

// parseVersions lists the versions of a /versions body: a JSON list of
// strings, or else every yyyy-mm-dd in the text (WALinuxAgent itself only
// looks for the API version as a substring).
func parseVersions(body []byte) []string {
	var list []string
	if err := json.Unmarshal(body, &list); err == nil {
		return list
	}
	out := []string{}
	for _, m := range versionPattern.FindAll(body, 64) {
		out = append(out, string(m))
	}
	return out
}

// get requests base+path with the host plugin headers, reading at most
// maxBody bytes of the body (kept when keep is set). err is "" on any
// HTTP answer.
func (h *hostPluginChecker) get(ctx context.Context, path string, keep bool) (status int, reason string, body []byte, err string) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, e := http.NewRequestWithContext(ctx, http.MethodGet, h.base+path, nil)
	if e != nil {
		return 0, "", nil, e.Error()
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(headerVersion, HostPluginAPIVersion)
	if h.containerID != "" {
		req.Header.Set(headerContainerID, h.containerID)
	}
	resp, e := h.client.Do(req)
	if e != nil {
		return 0, "", nil, describeErr(ctx, e, h.timeout)
	}
	defer resp.Body.Close()
	if keep {
		body, e = io.ReadAll(io.LimitReader(resp.Body, h.maxBody))
	} else {
		_, e = io.Copy(io.Discard, io.LimitReader(resp.Body, h.maxBody))
	}
	if e != nil {
		return resp.StatusCode, "", nil, "read body: " + describeErr(ctx, e, h.timeout)
	}
	_, reason, _ = strings.Cut(resp.Status, " ")
	return resp.StatusCode, reason, body, ""
}

func durationMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
