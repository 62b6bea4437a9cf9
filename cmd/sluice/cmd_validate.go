package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newValidateCommand(s streams) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "validate -c FILE",
		Short: "Check a configuration file without side effects",
		Long: `Decode and validate a configuration file exactly as 'run' would, without
opening the journal or binding any listener. Prints every error as
FILE:LINE:COL: message and exits 3, or prints "ok" and exits 0. With no -c,
validates the embedded default configuration.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			regs, err := registries()
			if err != nil {
				return err
			}
			file, err := loadConfig(path, regs)
			if err != nil {
				return withExit(exitInvalidConfig, err)
			}
			for _, w := range file.Warnings {
				fmt.Fprintf(s.errOut, "warning: %s\n", w)
			}
			name := path
			if name == "" {
				name = defaultConfigName
			}
			_, err = fmt.Fprintf(s.out, "%s: ok (%d sources, %d sinks, %d routes)\n", name,
				len(file.Pipeline.Sources), len(file.Pipeline.Sinks), len(file.Pipeline.Routes))
			return err
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "configuration file (default: the embedded default)")
	return cmd
}
