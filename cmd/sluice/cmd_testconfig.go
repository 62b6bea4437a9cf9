package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/cmd/sluice/internal/configtest"
	"github.com/sluice-dev/sluice/config"
)

// errTestsFailed is returned when a config unit test fails (exit 1).
var errTestsFailed = errors.New("tests failed")

func newTestCommand(s streams) *cobra.Command {
	var opts configtest.Options
	cmd := &cobra.Command{
		Use:   "test [--update] [-v] FILE|DIR...",
		Short: "Run a config's unit tests: events in, the deliveries each sink must get",
		Long: `Run config unit tests: YAML files beside a config (NAME.test.yaml for
NAME.yaml) that give events to its sources and list, per sink, the
deliveries its routes (match, transform) and throttles must produce,
exactly, as a subset, or as CEL conditions; or compare every sink's
deliveries, in the sink's own encoding, with a golden file.

Nothing is started or contacted: the engine's routing code runs on the
events, and sinks are only built to show a delivery as they would send
it. A FILE that is a config runs the test file beside it; a DIR runs
every *.test.yaml in it. A failing test prints what differs and the
delivery in the sink's encoding, and exits 1; a test file or config that
is invalid exits 3. --update writes the golden files instead of
comparing them.

The test file format is in docs/testing.md.`,
		Example: `  sluice test sluice.test.yaml
  sluice test examples/
  sluice test --update examples/http-to-file.test.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			regs, err := registries()
			if err != nil {
				return err
			}
			files, err := testFiles(args)
			if err != nil {
				return withExit(exitInvalidConfig, fmt.Errorf("sluice: %w", err))
			}
			opts.Registries, opts.Out = regs, s.out
			var total configtest.Result
			for _, f := range files {
				res, err := configtest.Run(cmd.Context(), f, opts)
				total.Passed += res.Passed
				total.Failed += res.Failed
				var cfgErrs config.Errors
				if err != nil && !errors.As(err, &cfgErrs) {
					err = fmt.Errorf("sluice: %w", err) // config errors are FILE:LINE:COL lines
				}
				if err != nil {
					return withExit(exitInvalidConfig, err)
				}
			}
			if total.Failed > 0 {
				return fmt.Errorf("%w: %d of %d", errTestsFailed, total.Failed, total.Failed+total.Passed)
			}
			_, err = fmt.Fprintf(s.out, "ok: %d tests in %d files\n", total.Passed, len(files))
			return err
		},
	}
	cmd.Flags().BoolVarP(&opts.Update, "update", "u", false, "write the golden files instead of comparing them")
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "show every sink's deliveries of passing tests too")
	return cmd
}

// testFiles resolves the arguments of `sluice test` to test files: a
// directory to its *.test.yaml files, a config to the test file beside it.
func testFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			f := configtest.TestFileFor(a)
			if _, err := os.Stat(f); err != nil {
				return nil, fmt.Errorf("%s has no tests: %w", a, err)
			}
			files = append(files, f)
			continue
		}
		var found []string
		for _, pat := range []string{"*.test.yaml", "*.test.yml"} {
			m, err := filepath.Glob(filepath.Join(a, pat))
			if err != nil {
				return nil, err
			}
			found = append(found, m...)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no *.test.yaml files", a)
		}
		slices.Sort(found)
		files = append(files, found...)
	}
	return files, nil
}
