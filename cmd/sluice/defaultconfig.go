package main

import (
	_ "embed"
	"os"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/pipeline"
)

// defaultConfig is the configuration `sluice run` uses without -c.
//
//go:embed default.yaml
var defaultConfig []byte

// defaultConfigName is how errors in the embedded config are located.
const defaultConfigName = "<embedded>/default.yaml"

// loadConfig loads path, or the embedded default when path is empty.
func loadConfig(path string, regs pipeline.Registries) (*config.File, error) {
	if path == "" {
		return config.Parse(defaultConfigName, defaultConfig, regs, os.LookupEnv)
	}
	return config.Load(path, regs)
}

// configText returns the text of path, or of the embedded default when
// path is empty; nil if it cannot be read (it was read a moment ago).
func configText(path string) []byte {
	if path == "" {
		return defaultConfig
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return b
}
