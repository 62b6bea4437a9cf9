package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// tailPollInterval is how often `tail -f` looks at the segment files of a
// journal no engine holds.
var tailPollInterval = time.Second

func newJournalTailCommand(s streams, f *journalFlags) *cobra.Command {
	var (
		lines  uint64
		from   uint64
		follow bool
	)
	cmd := &cobra.Command{
		Use:   "tail [-n N] [--from SEQ] [-f]",
		Short: "Print the newest records as CloudEvents JSON lines",
		Long: `Print the newest N records (default 10), or the records from --from SEQ
(all of them, or the first N with -n), as CloudEvents JSON lines carrying
the journal sequence, append time and chain hash.

With -f, keep printing records as they are appended, until interrupted:
through the running engine's admin API while one runs, and by watching the
journal's segment files while none does, so records appear when an engine
starts again (and stopping the engine does not end the command).`,
		Example: `  sluice journal tail -c sluice.yaml
  sluice journal tail -c sluice.yaml -n 3 --from 100
  sluice journal tail -c sluice.yaml -f`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var limit uint64
			if from != 0 && cmd.Flags().Changed("lines") {
				limit = lines
				if limit == 0 {
					return nil
				}
			}
			emit := func(line []byte) error {
				_, err := s.out.Write(line)
				return err
			}
			var next uint64
			err := withJournal(ctx, f, func(v journalView) error {
				start, err := tailStart(ctx, v, from, lines)
				if err != nil {
					return err
				}
				next = start
				if follow && v.Live() {
					err := v.Records(ctx, start, 0, true, tracked(&next, emit))
					if err != nil && next == start && ctx.Err() == nil {
						return err // refused before any record: not the engine stopping
					}
					return nil
				}
				return v.Records(ctx, start, limit, false, tracked(&next, emit))
			})
			if err != nil || !follow {
				return err
			}
			return followJournal(ctx, f, next, emit)
		},
	}
	cmd.Flags().Uint64VarP(&lines, "lines", "n", 10, "how many of the newest records to print (with --from: at most how many from there)")
	cmd.Flags().Uint64Var(&from, "from", 0, "print from this sequence instead of the newest N")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new records, across engine stops and starts")
	return cmd
}

// tailStart is the first sequence tail prints: from, or the newest lines
// records.
func tailStart(ctx context.Context, v journalView, from, lines uint64) (uint64, error) {
	if from != 0 {
		return from, nil
	}
	st, err := v.Stats(ctx)
	if err != nil {
		return 0, err
	}
	if st.Last == 0 {
		return 1, nil
	}
	start := max(st.First, 1)
	if st.Last >= lines && st.Last-lines+1 > start {
		start = st.Last - lines + 1
	}
	if lines == 0 {
		start = st.Last + 1
	}
	return start, nil
}

// tracked wraps emit so that *next follows the sequence of the last line
// emitted (lines are recordJSON's, whose "sequence" is a string).
func tracked(next *uint64, emit func([]byte) error) func([]byte) error {
	return func(line []byte) error {
		var v struct {
			Sequence string `json:"sequence"`
		}
		if err := json.Unmarshal(line, &v); err == nil {
			if seq, err := strconv.ParseUint(v.Sequence, 10, 64); err == nil {
				if seq < *next {
					return nil // already printed before a reconnection
				}
				*next = seq + 1
			}
		}
		return emit(line)
	}
}

// followRemote follows a running engine's journal until its stream ends
// (the engine stopped) or ctx does.
func followRemote(ctx context.Context, v journalView, next *uint64, emit func([]byte) error) error {
	err := v.Records(ctx, *next, 0, true, tracked(next, emit))
	if ctx.Err() != nil {
		return nil
	}
	if errors.Is(err, errEmit) {
		return err
	}
	return nil // the engine went away: followJournal watches the files
}

// errEmit marks a failure to write the output, which ends tail -f.
var errEmit = errors.New("write output")

// followJournal prints the records from next on as they are appended,
// until ctx ends: while an engine holds the journal, through its admin
// API; while none does, by polling the segment files (their names, sizes
// and modification times) and reading the journal only when they changed,
// so a stopped engine's journal is never held open (an engine starting
// would find it locked).
func followJournal(ctx context.Context, f *journalFlags, next uint64, emit func([]byte) error) error {
	dir, err := f.journalDir()
	if err != nil {
		return err
	}
	out := func(line []byte) error {
		if err := emit(line); err != nil {
			return fmt.Errorf("%w: %w", errEmit, err)
		}
		return nil
	}
	seen := ""
	for {
		if mark := segmentsMark(dir); mark != seen {
			seen = mark
			err := withJournal(ctx, f, func(v journalView) error {
				if v.Live() {
					return followRemote(ctx, v, &next, out)
				}
				return v.Records(ctx, next, 0, false, tracked(&next, out))
			})
			switch {
			case ctx.Err() != nil:
				return nil
			case errors.Is(err, errEmit):
				return err
			case err != nil:
				seen = "" // an engine starting or stopping: try again
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(tailPollInterval):
		}
	}
}

// segmentsMark summarizes the journal's segment files: it changes when a
// record is appended, a segment is added or removed, or the lock is taken.
func segmentsMark(dir string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".seg") && e.Name() != "LOCK" {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "%s %d %d\n", e.Name(), fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String()
}
