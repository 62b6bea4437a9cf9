package haproxysink

import (
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// Reload methods.
const (
	// ReloadMaster sends "reload" on the master CLI socket (HAProxy started
	// with -W/-Ws and -S, as Debian's systemd unit does).
	ReloadMaster = "master_socket"
	// ReloadCommand runs reload.command (e.g. systemctl reload haproxy).
	ReloadCommand = "command"
)

// Config is the haproxy sink's configuration. The defaults fit Debian 12's
// haproxy package and its systemd unit (haproxy -Ws -f
// /etc/haproxy/haproxy.cfg -p /run/haproxy.pid -S /run/haproxy-master.sock).
type Config struct {
	// ConfigPath is the configuration file HAProxy loads, which the sink
	// owns and rewrites whole. Default "/etc/haproxy/haproxy.cfg".
	ConfigPath string `yaml:"config_path"`
	// Binary is the haproxy executable used for `haproxy -c -f`. Default
	// "/usr/sbin/haproxy".
	Binary string `yaml:"binary"`
	// Reload is how HAProxy is told to load the new file.
	Reload ReloadConfig `yaml:"reload"`
	// StatsSocket is the stats socket written into the file (mode 660,
	// level operator) and read for STATS and METRICS. Default
	// "/run/haproxy/admin.sock", Debian's.
	StatsSocket string `yaml:"stats_socket"`
	// BindAddress is the address frontends bind. Default "0.0.0.0", Libra's.
	BindAddress string `yaml:"bind_address"`
	// User and Group are the global user and group HAProxy drops to.
	// Default "haproxy"; empty leaves the line out.
	User  string `yaml:"user"`
	Group string `yaml:"group"`
	// Log is the global log target. Default "/dev/log local0", Libra's;
	// empty leaves logging out.
	Log string `yaml:"log"`
	// MaxConn is the global and defaults maxconn. Default 4096, Libra's
	// global value (its defaults said 50000, above the global cap).
	MaxConn int `yaml:"max_conn"`
}

// ReloadConfig configures reloading.
type ReloadConfig struct {
	// Method is master_socket (default) or command.
	Method string `yaml:"method"`
	// MasterSocket is HAProxy's master CLI socket, used to reload (method
	// master_socket) and, with either method, to check that new workers
	// run ("show proc"). Default "/run/haproxy-master.sock".
	MasterSocket string `yaml:"master_socket"`
	// Command is run for method command, e.g. ["systemctl", "reload",
	// "haproxy"].
	Command []string `yaml:"command"`
	// Timeout bounds the check, the reload and its confirmation. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
}

var _ pipeline.Config = (*Config)(nil)

func defaultConfig() *Config {
	return &Config{
		ConfigPath:  "/etc/haproxy/haproxy.cfg",
		Binary:      "/usr/sbin/haproxy",
		Reload:      ReloadConfig{Method: ReloadMaster, MasterSocket: "/run/haproxy-master.sock", Timeout: 10 * time.Second},
		StatsSocket: "/run/haproxy/admin.sock",
		BindAddress: "0.0.0.0",
		User:        "haproxy",
		Group:       "haproxy",
		Log:         "/dev/log local0",
		MaxConn:     4096,
	}
}

// Validate implements pipeline.Config.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, pipeline.FieldErrorf(field, format, args...))
	}
	for _, p := range []struct{ field, v string }{
		{"config_path", c.ConfigPath}, {"binary", c.Binary},
		{"reload.master_socket", c.Reload.MasterSocket}, {"stats_socket", c.StatsSocket},
	} {
		switch {
		case p.v == "":
			add(p.field, "is required")
		case !filepath.IsAbs(p.v):
			add(p.field, "must be an absolute path, got %q", p.v)
		case strings.ContainsFunc(p.v, func(r rune) bool { return r <= ' ' }):
			add(p.field, "must not contain spaces or control characters, got %q", p.v)
		}
	}
	switch c.Reload.Method {
	case ReloadMaster:
	case ReloadCommand:
		if len(c.Reload.Command) == 0 || c.Reload.Command[0] == "" {
			add("reload.command", "is required with method command")
		}
	default:
		add("reload.method", "must be %s or %s, got %q", ReloadMaster, ReloadCommand, c.Reload.Method)
	}
	if c.Reload.Timeout <= 0 {
		add("reload.timeout", "must be positive, got %s", c.Reload.Timeout)
	}
	if _, err := netip.ParseAddr(c.BindAddress); err != nil {
		add("bind_address", "must be an IP address, got %q", c.BindAddress)
	}
	for _, f := range []struct{ field, v string }{{"user", c.User}, {"group", c.Group}} {
		if strings.ContainsFunc(f.v, func(r rune) bool { return r <= ' ' || r > '~' }) {
			add(f.field, "must be a plain name, got %q", f.v)
		}
	}
	if strings.ContainsAny(c.Log, "\r\n") {
		add("log", "must be one line")
	}
	if c.MaxConn < 1 {
		add("max_conn", "must be at least 1, got %d", c.MaxConn)
	}
	return errors.Join(errs...)
}
