package probesource

import (
	"context"
	"log/slog"
	"net/url"

	"github.com/sluice-dev/sluice/internal/httpclient"
)

// warning is something unsafe in a probe's configuration that Provision
// logs: every probe is named, even when probes share a transport.
type warning struct {
	probe, target string
	insecure      bool // otherwise headers over plain http
}

// Warning messages.
const (
	warnInsecure = "TLS CERTIFICATE VERIFICATION IS DISABLED for this probe (tls.insecure_skip_verify): anyone on the path can impersonate the target; use tls.ca_file instead"
	warnHeaders  = "probe sends its configured headers (secrets) in clear over plain http; use an https url"
)

// warningsOf returns the warnings of one probe: TLS verification turned
// off for an https URL, headers sent over plain http to a host that is
// not loopback.
func warningsOf(sp spec, target string) []warning {
	if sp.kind != KindHTTP && sp.kind != KindHTTPS {
		return nil
	}
	var out []warning
	u, err := url.Parse(sp.own.URL)
	if err != nil {
		return nil
	}
	if sp.tls.InsecureSkipVerify && u.Scheme == "https" {
		out = append(out, warning{probe: sp.name, target: target, insecure: true})
	}
	if len(sp.own.Headers) > 0 && u.Scheme == "http" && !httpclient.IsLoopbackHost(u.Hostname()) {
		out = append(out, warning{probe: sp.name, target: target})
	}
	return out
}

// logWarnings logs each warning at WARN level.
func (s *source) logWarnings(ctx context.Context) {
	for _, w := range s.warnings {
		attrs := []any{slog.String("probe", w.probe), slog.String("target", w.target)}
		if w.insecure {
			s.set.Logger.WarnContext(ctx, warnInsecure, attrs...)
		} else {
			s.set.Logger.WarnContext(ctx, warnHeaders, attrs...)
		}
	}
}
