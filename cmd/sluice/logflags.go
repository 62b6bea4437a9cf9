package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/config"
)

// logFlags are the root's --log-level and --log-format, which override
// the configuration's log: settings.
type logFlags struct {
	level, format string
}

func (f *logFlags) register(root *cobra.Command) {
	root.PersistentFlags().StringVar(&f.level, "log-level", "", "least severe level logged: debug, info, warn or error (overrides log.level)")
	root.PersistentFlags().StringVar(&f.format, "log-format", "", "log line encoding: text or json (overrides log.format)")
}

// apply returns c with the flags that were given applied, or a usage
// error naming the bad value.
func (f *logFlags) apply(c config.LogConfig) (config.LogConfig, error) {
	if f == nil {
		return c, nil
	}
	if f.level != "" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(f.level)); err != nil {
			return c, usageErrorf("--log-level: want debug, info, warn or error, got %q", f.level)
		}
		c.Level = l
	}
	if f.format != "" {
		var lf config.LogFormat
		if err := lf.UnmarshalText([]byte(f.format)); err != nil {
			return c, usageErrorf("--log-format: %s", fmt.Sprint(err))
		}
		c.Format = lf
	}
	return c, nil
}
