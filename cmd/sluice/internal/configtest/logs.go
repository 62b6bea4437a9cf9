package configtest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// logCollector is a slog.Handler keeping the warnings the simulation
// logs (match errors counted as no match), shown with a failing test.
type logCollector struct {
	mu    sync.Mutex
	lines []string
}

func (l *logCollector) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn
}

func (l *logCollector) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	}
	r.Attrs(add)
	l.mu.Lock()
	l.lines = append(l.lines, b.String())
	l.mu.Unlock()
	return nil
}

func (l *logCollector) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &sharedCollector{root: l, attrs: attrs}
}

func (l *logCollector) WithGroup(string) slog.Handler { return l }

// sharedCollector adds attributes and writes into its root's lines.
type sharedCollector struct {
	root  *logCollector
	attrs []slog.Attr
}

func (s *sharedCollector) Enabled(ctx context.Context, level slog.Level) bool {
	return s.root.Enabled(ctx, level)
}

func (s *sharedCollector) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(s.attrs...)
	return s.root.Handle(ctx, r)
}

func (s *sharedCollector) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &sharedCollector{root: s.root, attrs: append(append([]slog.Attr(nil), s.attrs...), attrs...)}
}

func (s *sharedCollector) WithGroup(string) slog.Handler { return s }
