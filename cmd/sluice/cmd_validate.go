package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/config"
	"github.com/sluice-dev/sluice/pipeline"
)

func newValidateCommand(s streams) *cobra.Command {
	var (
		paths       []string
		noProvision bool
	)
	cmd := &cobra.Command{
		Use:   "validate [FILE|DIR]... [-c FILE|DIR]... [--no-provision]",
		Short: "Check a configuration, and what its components would open, without side effects",
		Long: `Decode and validate a configuration exactly as 'run' would, then provision
every source and sink: read the certificates, keys, secrets and files they
name, as 'run' would before starting, without opening the journal, binding
any listener or sending anything. Prints every error as FILE:LINE:COL:
message and exits 3, or prints "ok" and exits 0. Files and directories
(their *.yaml and *.yml files in name order) are given as arguments or with
-c, several merged in order as 'run' merges them; with none, $SLUICE_CONFIG,
else the embedded default configuration. --no-provision checks the files
alone (for a machine that does not have the certificates).`,
		Example: `  sluice validate /etc/sluice/sluice.yaml
  sluice validate -c base.yaml -c prod.yaml
  sluice validate /etc/sluice/conf.d --no-provision`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			paths = append(paths, args...)
			regs, err := registries()
			if err != nil {
				return err
			}
			file, err := loadConfig(paths, regs)
			if err != nil {
				return withExit(exitInvalidConfig, err)
			}
			for _, w := range file.Warnings {
				fmt.Fprintln(s.errOut, w)
			}
			if !noProvision {
				if err := provisionFile(cmd.Context(), file, regs, s.errOut); err != nil {
					return withExit(exitInvalidConfig, err)
				}
			}
			_, err = fmt.Fprintf(s.out, "%s: ok (%d sources, %d sinks, %d routes)\n", configName(paths),
				len(file.Pipeline.Sources), len(file.Pipeline.Sinks), len(file.Pipeline.Routes))
			return err
		},
	}
	configFlag(cmd, &paths, false)
	cmd.Flags().BoolVar(&noProvision, "no-provision", false, "check the files only; do not read the files, certificates and secrets their components name")
	return cmd
}

// provisionFile runs pipeline.Provision for each source and sink of file
// on its own, so that every error is placed at the component's settings
// (config.File.Locate), and returns them as config.Errors sorted by
// position. Components log warnings to errOut.
func provisionFile(ctx context.Context, file *config.File, regs pipeline.Registries, errOut io.Writer) error {
	set := pipeline.NopSettings("validate")
	set.Logger = slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	spec := file.Pipeline
	var all config.Errors
	add := func(err error) {
		var es config.Errors
		if errors.As(err, &es) {
			all = append(all, es...)
		}
	}
	for i, ss := range spec.Sources {
		one := pipeline.Spec{Sources: []pipeline.SourceSpec{ss}, ShutdownTimeout: spec.ShutdownTimeout}
		add(file.Locate(config.KindSource, i, pipeline.Provision(ctx, one, regs, set)))
	}
	for i, ks := range spec.Sinks {
		one := pipeline.Spec{Sinks: []pipeline.SinkSpec{ks}, Routes: spec.Routes, ShutdownTimeout: spec.ShutdownTimeout}
		add(file.Locate(config.KindSink, i, pipeline.Provision(ctx, one, regs, set)))
	}
	add(file.LocateSection("admin", provisionAdmin(ctx, file)))
	if len(all) == 0 {
		return nil
	}
	slices.SortStableFunc(all, func(a, b *config.Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return all
}
