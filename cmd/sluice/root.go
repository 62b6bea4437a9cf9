package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/config"
)

// streams are the process's standard streams, passed explicitly so that
// commands are testable in-process.
type streams struct {
	in          io.Reader
	out, errOut io.Writer
	// log holds the root's --log-level and --log-format.
	log *logFlags
}

// run executes the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s := streams{in: stdin, out: stdout, errOut: stderr, log: &logFlags{}}
	root := newRootCommand(s)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if !errors.As(err, &ee) && isUsageError(err) {
		err = &exitError{code: exitUsage, err: err}
	}
	var located config.Errors
	if exitCode(err) == exitInvalidConfig && errors.As(err, &located) {
		// Config errors are already FILE:LINE:COL: message lines.
		fmt.Fprintln(stderr, err)
		return exitInvalidConfig
	}
	fmt.Fprintf(stderr, "sluice: %v\n", err)
	if exitCode(err) == exitUsage {
		fmt.Fprintln(stderr, "Run 'sluice --help' for usage.")
	}
	return exitCode(err)
}

func newRootCommand(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "sluice",
		Short: "Sluice: an event-sourced pipeline engine with a durable journal",
		Long: `Sluice turns what happens on and around a VM into events, appends every event
durably to a journal, and fans them out to sinks through declarative routes,
each sink with its own cursor, retries and backoff.

Exit codes:
  0  success
  1  runtime error
  2  usage error (unknown command or flag, missing argument)
  3  invalid configuration (errors printed as FILE:LINE:COL: message)
  4  journal in use by a process that could not be reached
  5  journal failed an integrity check`,
		Example: `  sluice run                              # the embedded default configuration
  sluice validate /etc/sluice/sluice.yaml
  sluice run -c /etc/sluice/sluice.yaml --watch
  sluice journal stats -c /etc/sluice/sluice.yaml`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate(versionLine())
	s.log.register(root)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withExit(exitUsage, err) })
	root.AddCommand(
		newRunCommand(s),
		newValidateCommand(s),
		newTestCommand(s),
		newSchemaCommand(s),
		newJournalCommand(s),
		newTapCommand(s),
		newTopCommand(s),
		newVersionCommand(s.out),
	)
	root.AddCommand(manCommands()...)
	completionExamples(root)
	return root
}

// completionExamples adds cobra's completion command now (rather than
// when it runs) to give it and its shells Examples sections.
func completionExamples(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Example = `  source <(sluice completion bash)
  sluice completion zsh > "${fpath[1]}/_sluice"
  sluice completion fish > ~/.config/fish/completions/sluice.fish`
		for _, sh := range c.Commands() {
			switch sh.Name() {
			case "bash":
				sh.Example = "  source <(sluice completion bash)\n  sluice completion bash > /etc/bash_completion.d/sluice"
			case "zsh":
				sh.Example = `  sluice completion zsh > "${fpath[1]}/_sluice"`
			case "fish":
				sh.Example = "  sluice completion fish > ~/.config/fish/completions/sluice.fish"
			case "powershell":
				sh.Example = "  sluice completion powershell | Out-String | Invoke-Expression"
			}
		}
	}
}

// isUsageError recognizes cobra's own argument errors, which it returns
// as plain errors.
func isUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires ", "invalid argument", "flag needs an argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
