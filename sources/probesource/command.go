package probesource

import (
	"errors"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Command is what an exec probe runs. In YAML it is either a list, the
// argv itself (["/usr/bin/check", "--fast"]), or one string: run by
// /bin/sh -c when the probe sets shell: true, and otherwise split on
// white space into argv with no quoting rules, as the DCAE k8s plugin
// splits a healthcheck script.
type Command struct {
	argv []string
	line string
	// isLine reports that the command was written as one string.
	isLine bool
	// written is the command as written in the config file, before
	// ${...} interpolation (see UnmarshalYAMLWritten); nil when it is the
	// command itself.
	written *Command
}

// Argv returns a Command that runs args as they are.
func Argv(args ...string) Command { return Command{argv: append([]string{}, args...)} }

// CommandLine returns a Command written as one string.
func CommandLine(s string) Command { return Command{line: s, isLine: true} }

// IsZero reports whether the command is unset.
func (c Command) IsZero() bool { return c.argv == nil && !c.isLine }

// String returns the command as written, argv joined with spaces.
func (c Command) String() string {
	if c.isLine {
		return c.line
	}
	return strings.Join(c.argv, " ")
}

// UnmarshalYAML implements yaml.Unmarshaler (the config loader honours it
// too): a sequence of strings or one string.
func (c *Command) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*c = CommandLine(n.Value)
		return nil
	case yaml.SequenceNode:
		args := make([]string, 0, len(n.Content))
		for _, e := range n.Content {
			if e.Kind != yaml.ScalarNode {
				return errors.New("command: want a list of strings or one string")
			}
			args = append(args, e.Value)
		}
		*c = Command{argv: args}
		return nil
	}
	return errors.New("command: want a list of strings or one string")
}

// UnmarshalYAMLWritten implements config.WrittenUnmarshaler: it keeps the
// command as written, before interpolation, which is what events and
// logs show (Shown), so that a password filled in from ${VAR} or
// ${file:...} never reaches them.
func (c *Command) UnmarshalYAMLWritten(n *yaml.Node) error {
	var w Command
	if err := w.UnmarshalYAML(n); err != nil {
		return err
	}
	c.written = &w
	return nil
}

// Shown returns the command as it is shown in events and logs: as
// written in the config file, with its ${...} references rather than
// their values, and /bin/sh -c before it when shell is set.
func (c Command) Shown(shell bool) string {
	w := c
	if c.written != nil {
		w = *c.written
	}
	return strings.Join(w.resolve(shell), " ")
}

// MarshalYAML implements yaml.Marshaler.
func (c Command) MarshalYAML() (any, error) {
	if c.isLine {
		return c.line, nil
	}
	return c.argv, nil
}

// resolve returns the argv to execute.
func (c Command) resolve(shell bool) []string {
	switch {
	case shell:
		return []string{"/bin/sh", "-c", c.String()}
	case c.isLine:
		return strings.Fields(c.line)
	}
	return c.argv
}
