package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// tapOptions are tap's flags.
type tapOptions struct {
	sources, routes, sinks []string
	count                  uint64
	duration               time.Duration
	output                 string
	// buffer is the engine-side buffer asked for (0: the engine's).
	buffer int
}

func newTapCommand(s streams) *cobra.Command {
	var (
		f journalFlags
		o tapOptions
	)
	cmd := &cobra.Command{
		Use:   "tap (--sink NAME | --route NAME | --source NAME)... [--count N] [--for DURATION]",
		Short: "Stream live what a running engine delivers to a sink, selects on a route or appends from a source",
		Long: `Stream, from the running engine, what happens at the named points, as it
happens:
  --sink NAME    what the sink's consumer finished: delivered, or dead-lettered
                 (with the reason and error)
  --route NAME   what the route selected (after its match and transform) and
                 would deliver, once per sink it feeds, when that sink routes it
  --source NAME  what the source appended to the journal
Repeat them to watch several points. Each line shows the point, the event's
journal sequence and outcome and the CloudEvent: JSON lines (the CloudEvent
under "event") when the output is not a terminal, a one-line summary per
event on a terminal; --output chooses.

The tap reaches the engine's admin API like the journal commands (its Unix
socket, or --admin HOST:PORT with the token) and shows event data, as
'journal tail' does. A tap never slows the engine: when the output cannot
keep up, the engine drops tap lines (not deliveries) and the tap says how
many on stderr. It ends on Ctrl-C, after --count events, after --for, or when
the engine stops (exit 0, with a message); with no engine running, or when a
configuration reload removes a source, route or sink it watches (the message
names it), it fails with exit code 1.`,
		Example: `  sluice tap --sink archive                        # what the archive sink delivers
  sluice tap --route alerts --count 5              # the next 5 events the route selects
  sluice tap --source ingest --for 30s --output json > ingest.jsonl
  sluice tap --sink console --sink archive -c /etc/sluice/sluice.yaml
  sluice tap --sink archive --admin 127.0.0.1:9464 # over TCP (admin.api: tcp)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTap(cmd.Context(), s, &f, o)
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringArrayVar(&o.sinks, "sink", nil, "tap what this sink delivers or dead-letters (repeatable)")
	fl.StringArrayVar(&o.routes, "route", nil, "tap what this route selects (repeatable)")
	fl.StringArrayVar(&o.sources, "source", nil, "tap what this source appends (repeatable)")
	fl.Uint64Var(&o.count, "count", 0, "stop after N events (0: no limit)")
	fl.DurationVar(&o.duration, "for", 0, "stop after this long (0: until Ctrl-C)")
	fl.StringVarP(&o.output, "output", "o", "", "json (JSON lines) or text (one line per event); default: text on a terminal, json otherwise")
	fl.IntVar(&o.buffer, "buffer", 0, "events the engine buffers for this tap before dropping (0: the engine's default)")
	_ = fl.MarkHidden("buffer")
	registerNameCompletion(cmd, "sink", kindSink)
	registerNameCompletion(cmd, "route", kindRoute)
	registerNameCompletion(cmd, "source", kindSource)
	return cmd
}

// runTap streams the tap to s.out until it ends.
func runTap(ctx context.Context, s streams, f *journalFlags, o tapOptions) error {
	if len(o.sinks)+len(o.routes)+len(o.sources) == 0 {
		return usageErrorf("tap: name at least one --sink, --route or --source")
	}
	text, err := outputIsText(o.output, s.out)
	if err != nil {
		return err
	}
	r, err := dialRunningEngine(ctx, f)
	if err != nil {
		return err
	}
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	body, err := r.stream(ctx, "/api/v1/tap", tapQuery(o.sources, o.routes, o.sinks, o.buffer))
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("tap: %w", err)
	}
	defer body.Close()
	t := &tapPrinter{out: s.out, errOut: s.errOut, text: text, slowWhat: slowOutput(s.out), limit: o.count}
	err = t.copy(body)
	if ctx.Err() != nil { // Ctrl-C or --for
		return nil
	}
	return err
}

// outputIsText resolves --output: "" is text on a terminal.
func outputIsText(output string, out io.Writer) (bool, error) {
	switch output {
	case "":
		return isTerminal(out), nil
	case "text":
		return true, nil
	case "json":
		return false, nil
	}
	return false, usageErrorf("--output %q: want json or text", output)
}

// slowOutput names what is too slow when the engine drops tap lines.
func slowOutput(out io.Writer) string {
	if isTerminal(out) {
		return "the terminal is too slow"
	}
	return "the output is read too slowly"
}

// errTapCut is returned when the stream ends without its end line.
var errTapCut = errors.New("tap: the engine closed the stream without ending it (did it crash?)")

// errTapRemoved ends a tap whose source, route or sink a configuration
// reload removed.
var errTapRemoved = errors.New("tap ended")

// tapPrinter writes a tap stream's events and reports the rest on errOut.
type tapPrinter struct {
	out, errOut io.Writer
	text        bool
	slowWhat    string
	limit, n    uint64
	dropped     uint64
}

// copy reads the stream until its end line, the limit or an error.
func (t *tapPrinter) copy(body io.Reader) error {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		var line tapLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return fmt.Errorf("tap: bad line from the engine: %w", err)
		}
		done, err := t.handle(line, sc.Bytes())
		if done || err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("tap: %w", err)
	}
	return errTapCut
}

// handle handles one line; done reports the end of the tap.
func (t *tapPrinter) handle(line tapLine, raw []byte) (done bool, err error) {
	switch line.Type {
	case tapLineOpen:
		names := make([]string, len(line.Points))
		for i, p := range line.Points {
			names[i] = p.Kind + " " + p.Name
		}
		fmt.Fprintf(t.errOut, "tap: watching %s (Ctrl-C to stop)\n", strings.Join(names, ", "))
	case tapLineDropped:
		if line.Dropped > t.dropped {
			fmt.Fprintf(t.errOut, "tap: %d events dropped, %s\n", line.Dropped-t.dropped, t.slowWhat)
			t.dropped = line.Dropped
		}
	case tapLineEnd:
		switch line.End {
		case tapEndStopped:
			fmt.Fprintln(t.errOut, "tap: the engine is stopping; the tap ended")
		case tapEndRemoved:
			return true, fmt.Errorf("%w: %s", errTapRemoved, strings.ReplaceAll(line.Error, "\n", "; "))
		default:
			fmt.Fprintf(t.errOut, "tap: ended by the engine (%s)\n", line.End)
		}
		return true, nil
	case tapLineEvent:
		var b []byte
		if t.text {
			b, err = tapText(line)
			if err != nil {
				return true, err
			}
		} else {
			b = append(slices.Clip(raw), '\n')
		}
		if _, err := t.out.Write(b); err != nil {
			return true, err
		}
		t.n++
		return t.limit > 0 && t.n >= t.limit, nil
	}
	return false, nil
}
