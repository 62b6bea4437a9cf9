package main

import (
	_ "embed"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/pipeline"
)

// defaultConfig is the configuration `sluice run` uses without -c.
//
//go:embed default.yaml
var defaultConfig []byte

// defaultConfigName is how errors in the embedded config are located.
const defaultConfigName = "<embedded>/default.yaml"

// configEnv names the configuration when no -c is given: one path, or
// several separated by the OS's list separator (':'), merged in order.
const configEnv = "SLUICE_CONFIG"

// configFlag registers -c (repeatable) on cmd.
func configFlag(cmd *cobra.Command, paths *[]string, persistent bool) {
	flags := cmd.Flags()
	if persistent {
		flags = cmd.PersistentFlags()
	}
	flags.StringArrayVarP(paths, "config", "c", nil,
		"configuration file or directory (of *.yaml); repeat to merge several in order (default: $"+configEnv+", else the embedded default)")
}

// configPaths returns paths, or those of $SLUICE_CONFIG when none is
// given; none means the embedded default.
func configPaths(paths []string) []string {
	if len(paths) > 0 {
		return paths
	}
	if v := os.Getenv(configEnv); v != "" {
		return filepath.SplitList(v)
	}
	return nil
}

// loadConfig loads the files (or directories) of paths merged in order
// (configPaths), or the embedded default. A file that cannot be read is
// an error with the configuration's exit code.
func loadConfig(paths []string, regs pipeline.Registries) (*config.File, error) {
	paths = configPaths(paths)
	if len(paths) == 0 {
		return config.Parse(defaultConfigName, defaultConfig, regs, os.LookupEnv)
	}
	f, err := config.LoadAll(paths, regs)
	if errors.Is(err, fs.ErrNotExist) {
		err = withExit(exitInvalidConfig, errors.New(strings.TrimPrefix(err.Error(), "read config: ")+" (the configuration file is missing: give its path with -c or $"+configEnv+")"))
	}
	return f, err
}

// configName names the configuration in messages.
func configName(paths []string) string {
	if paths = configPaths(paths); len(paths) > 0 {
		return strings.Join(paths, ", ")
	}
	return defaultConfigName
}

// configText returns the text of the configuration files, or of the
// embedded default; nil if they cannot be read (they were a moment ago).
func configText(paths []string) []byte {
	paths = configPaths(paths)
	if len(paths) == 0 {
		return defaultConfig
	}
	srcs, err := config.ReadSources(paths)
	if err != nil {
		return nil
	}
	var b []byte
	for _, s := range srcs {
		b = append(append(b, s.Data...), '\n')
	}
	return b
}
