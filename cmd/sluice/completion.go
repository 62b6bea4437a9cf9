package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// Component kinds whose names shell completion offers.
const (
	kindSink   = "sink"
	kindSource = "source"
	kindRoute  = "route"
)

// completeNames completes the names of one kind of component (kindSink,
// kindSource, kindRoute) from the configuration the command line names:
// its -c files, else $SLUICE_CONFIG, else the embedded default. A
// configuration that does not load completes nothing (and no file names).
func completeNames(kind string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var names []cobra.Completion
		for _, n := range configuredNames(cmd, kind) {
			if strings.HasPrefix(n, toComplete) {
				names = append(names, n)
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeFirstArg completes the first positional argument with
// completeNames(kind) and nothing after it.
func completeFirstArg(kind string) cobra.CompletionFunc {
	names := completeNames(kind)
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return names(cmd, args, toComplete)
	}
}

// registerNameCompletion completes the flag's values with the names of
// kind; the flag must exist.
func registerNameCompletion(cmd *cobra.Command, flag, kind string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, completeNames(kind))
}

// configuredNames returns the names of kind in the configuration cmd's
// -c flags name (see completeNames); nil when it does not load.
func configuredNames(cmd *cobra.Command, kind string) []string {
	paths, _ := cmd.Flags().GetStringArray("config")
	regs, err := registries()
	if err != nil {
		return nil
	}
	file, err := loadConfig(paths, regs)
	if err != nil {
		return nil
	}
	var names []string
	switch kind {
	case kindSink:
		for _, s := range file.Pipeline.Sinks {
			names = append(names, s.Name)
		}
	case kindSource:
		for _, s := range file.Pipeline.Sources {
			names = append(names, s.Name)
		}
	case kindRoute:
		for _, r := range file.Pipeline.Routes {
			names = append(names, r.Name)
		}
	}
	return names
}
