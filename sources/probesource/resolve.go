package probesource

import (
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// spec is one probe with every default applied.
type spec struct {
	name, kind                                         string
	interval, timeout, initialDelay, jitter, heartbeat time.Duration
	failureThreshold, successThreshold                 int
	results                                            bool
	keepAlive                                          bool
	severity                                           pipeline.Severity
	tls                                                TLSConfig
	// own is the probe's configuration, for its kind's fields.
	own *Config
}

// resolve turns a validated config into probe specs. A single probe is
// named after the source unless it has a name.
func resolve(cfg *Config, sourceName string) []spec {
	if len(cfg.Probes) == 0 {
		name := cfg.Name
		if name == "" {
			name = sourceName
		}
		return []spec{resolveOne(cfg, &Config{}, name, false)}
	}
	out := make([]spec, len(cfg.Probes))
	for i := range cfg.Probes {
		p := (*Config)(&cfg.Probes[i])
		out[i] = resolveOne(p, cfg, p.Name, true)
	}
	return out
}

func resolveOne(c, parent *Config, name string, listed bool) spec {
	kind := c.Kind
	if kind == "" {
		kind = parent.Kind
	}
	def := defaultsFor(kind)
	s := spec{
		name:             name,
		kind:             kind,
		interval:         c.Interval.or(parent.Interval).or(NewInterval(def.interval)).Duration(),
		timeout:          c.Timeout.or(parent.Timeout).or(NewInterval(def.timeout)).Duration(),
		initialDelay:     c.InitialDelay.or(parent.InitialDelay).Duration(),
		heartbeat:        c.Heartbeat.or(parent.Heartbeat).or(NewInterval(def.heartbeat)).Duration(),
		failureThreshold: firstPositive(c.FailureThreshold, parent.FailureThreshold, def.failureThreshold),
		successThreshold: firstPositive(c.SuccessThreshold, parent.SuccessThreshold, 1),
		severity:         pipeline.SeverityError,
		tls:              c.TLS,
		own:              c,
	}
	var jitterDefault Interval
	if listed {
		jitterDefault = NewInterval(s.interval)
	}
	s.jitter = c.Jitter.or(parent.Jitter).or(jitterDefault).Duration()
	switch {
	case c.Results != nil:
		s.results = *c.Results
	case parent.Results != nil:
		s.results = *parent.Results
	}
	s.keepAlive = true
	switch {
	case c.KeepAlive != nil:
		s.keepAlive = *c.KeepAlive
	case parent.KeepAlive != nil:
		s.keepAlive = *parent.KeepAlive
	}
	switch {
	case c.Severity != nil:
		s.severity = *c.Severity
	case parent.Severity != nil:
		s.severity = *parent.Severity
	}
	if s.tls.IsZero() {
		s.tls = parent.TLS
	}
	return s
}

func firstPositive(v ...int) int {
	for _, x := range v {
		if x > 0 {
			return x
		}
	}
	return 0
}
