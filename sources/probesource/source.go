package probesource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-dev/sluice/pipeline"
)

// stateKeyPrefix prefixes each probe's key in the source's journal state.
const stateKeyPrefix = "probe/"

// source runs a set of probes on one scheduler.
type source struct {
	set        pipeline.Settings
	tel        *telemetry
	probes     []*probe
	transports []*http.Transport
	// tls is the TLS configuration of each transport, which Provision
	// reads and installs.
	tls         []transportTLS
	warnings    []warning
	provisioned bool
}

// transportTLS is the TLS configuration of one shared transport, and a
// probe that uses it (for messages).
type transportTLS struct {
	tr    *http.Transport
	conf  TLSConfig
	probe string
}

var (
	_ pipeline.Source      = (*source)(nil)
	_ pipeline.Provisioner = (*source)(nil)
)

func newSource(set pipeline.Settings, cfg *Config) (*source, error) {
	tel, err := newTelemetry(set)
	if err != nil {
		return nil, fmt.Errorf("probe telemetry: %w", err)
	}
	s := &source{set: set, tel: tel}
	transports := map[transportKey]*http.Transport{}
	for _, sp := range resolve(cfg, set.ID) {
		c, err := s.newChecker(sp, transports)
		if err != nil {
			s.closeTransports()
			return nil, fmt.Errorf("probe %q: %w", sp.name, err)
		}
		s.warnings = append(s.warnings, warningsOf(sp, c.target())...)
		s.probes = append(s.probes, &probe{
			spec: sp, check: c, attrs: tel.attrsFor(sp.name, sp.kind), st: newProbeState(),
			spanOpts: []trace.SpanStartOption{trace.WithAttributes(
				attribute.String("sluice.source", set.ID), attribute.String("sluice.probe", sp.name),
				attribute.String("sluice.probe.kind", sp.kind))},
		})
	}
	return s, nil
}

// transportKey tells apart the HTTP transports probes can share.
type transportKey struct {
	tls       TLSConfig
	keepAlive bool
}

// newChecker builds the checker of one probe, sharing one HTTP transport
// between the probes with the same TLS and keep-alive settings; Provision
// reads their TLS files.
func (s *source) newChecker(sp spec, transports map[transportKey]*http.Transport) (checker, error) {
	transport := func(k transportKey) (*http.Transport, error) {
		if tr, ok := transports[k]; ok {
			return tr, nil
		}
		tr := newTransport(nil, k.keepAlive)
		transports[k] = tr
		s.transports = append(s.transports, tr)
		s.tls = append(s.tls, transportTLS{tr: tr, conf: k.tls, probe: sp.name})
		return tr, nil
	}
	switch sp.kind {
	case KindHTTP, KindHTTPS:
		tr, err := transport(transportKey{tls: sp.tls, keepAlive: sp.keepAlive})
		if err != nil {
			return nil, err
		}
		return newHTTPChecker(sp, tr)
	case KindHostPlugin:
		// A new connection per check, as WALinuxAgent ("Connection:
		// close"); once a minute that costs nothing.
		tr, err := transport(transportKey{})
		if err != nil {
			return nil, err
		}
		return newHostPluginChecker(sp, tr, s.set.Clock), nil
	case KindTCP:
		return newTCPChecker(sp), nil
	case KindExec:
		return newExecChecker(sp), nil
	}
	return nil, fmt.Errorf("unknown kind %q", sp.kind)
}

func (s *source) closeTransports() {
	for _, tr := range s.transports {
		tr.CloseIdleConnections()
	}
}

// Provision implements pipeline.Provisioner: it reads the TLS files of
// the https probes (tls.ca_file, tls.cert_file, tls.key_file) and
// installs their configuration, resolves the user and group of the exec
// probes, and logs the probes whose configuration is unsafe (TLS
// verification off, headers over plain http), so that a missing file or
// user is reported before Run, by `sluice validate` too. It contacts no
// target. Run provisions a source that was not provisioned.
func (s *source) Provision(ctx context.Context) error {
	for _, t := range s.tls {
		conf := t.conf // a copy: Provision keeps what it read
		if err := conf.Provision(ctx); err != nil {
			return fmt.Errorf("probe %q: %w", t.probe, err)
		}
		tc, err := conf.Client()
		if err != nil {
			return fmt.Errorf("probe %q: %w", t.probe, err)
		}
		t.tr.TLSClientConfig = tc
	}
	for _, p := range s.probes {
		if e, ok := p.check.(*execChecker); ok {
			if err := e.provision(); err != nil {
				return fmt.Errorf("probe %q: %w", p.spec.name, err)
			}
		}
	}
	s.logWarnings(ctx)
	s.provisioned = true
	return nil
}

// Run implements pipeline.Source. It provisions the source if nobody
// did, restores each probe's state from the journal, then runs every
// probe on its own phase until ctx ends (see scheduler).
func (s *source) Run(ctx context.Context, host pipeline.SourceHost) error {
	defer s.closeTransports()
	if !s.provisioned {
		if err := s.Provision(ctx); err != nil {
			return err
		}
	}
	if err := s.restore(ctx, host); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	unregister, err := s.tel.observeStates(s.probes)
	if err != nil {
		return fmt.Errorf("probe telemetry: %w", err)
	}
	defer func() { _ = unregister() }()
	newScheduler(s, host).run(ctx)
	return nil
}

// restore loads the probes' states and deletes the state of probes that
// are no longer configured.
func (s *source) restore(ctx context.Context, host pipeline.SourceHost) error {
	state, err := host.State(ctx)
	if err != nil {
		return fmt.Errorf("load probe state: %w", err)
	}
	known := make(map[string]bool, len(s.probes))
	for _, p := range s.probes {
		key := stateKeyPrefix + p.spec.name
		known[key] = true
		b, ok := state[key]
		if !ok {
			continue
		}
		st, err := decodeState(b)
		if err != nil {
			// A state this version cannot read is dropped, not fatal:
			// the probe starts unknown, as on its first run.
			s.set.Logger.Warn("probe state ignored", slog.String("probe", p.spec.name), slog.String("error", err.Error()))
			continue
		}
		p.st = st
		p.attrs.gauge.Store(gaugeValue(st.state))
	}
	var stale []pipeline.StateUpdate
	for key := range state {
		if strings.HasPrefix(key, stateKeyPrefix) && !known[key] {
			stale = append(stale, pipeline.StateUpdate{Key: key, Delete: true})
		}
	}
	if len(stale) == 0 {
		return nil
	}
	if _, err := host.Emit(ctx, nil, stale...); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Stale state is harmless; it is retried at the next start.
		s.set.Logger.Warn("stale probe state not deleted", slog.Int("probes", len(stale)), slog.String("error", err.Error()))
		return nil
	}
	s.set.Logger.Info("deleted the state of probes no longer configured", slog.Int("probes", len(stale)))
	return nil
}

// emitFailureReason classifies an Emit error for the metric.
func emitFailureReason(err error) string {
	switch {
	case errors.Is(err, pipeline.ErrJournalFull):
		return "full"
	case errors.Is(err, pipeline.ErrJournalClosed):
		return "closed"
	case errors.Is(err, pipeline.ErrJournalUnavailable):
		return "unavailable"
	}
	return "error"
}
