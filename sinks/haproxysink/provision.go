package haproxysink

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/sluice-dev/sluice/pipeline"
)

var _ pipeline.Provisioner = (*sink)(nil)

// Provision implements pipeline.Provisioner: the haproxy binary is an
// executable and config_path's directory exists. It changes nothing.
func (s *sink) Provision(context.Context) error {
	var errs []error
	if _, err := exec.LookPath(s.cfg.Binary); err != nil {
		errs = append(errs, fmt.Errorf("binary: %w", err))
	}
	dir := filepath.Dir(s.cfg.ConfigPath)
	if fi, err := os.Stat(dir); err != nil {
		errs = append(errs, fmt.Errorf("config_path: %w", err))
	} else if !fi.IsDir() {
		errs = append(errs, fmt.Errorf("config_path: %s is not a directory", dir))
	}
	return errors.Join(errs...)
}
