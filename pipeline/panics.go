package pipeline

import (
	"fmt"
	"log/slog"
	"runtime/debug"
)

// ErrPanic is matched (errors.Is) by the error a component's panic turns
// into: a panic in a source's Run, a sink's Start, Deliver or Close, or a
// route's match or transform is an error of that component, logged with
// its stack, never a crash of the engine.
var ErrPanic = errPanic{}

type errPanic struct{}

func (errPanic) Error() string { return "panic" }

// panicError is a recovered panic of one component.
type panicError struct {
	what  string
	value any
}

func (e *panicError) Error() string     { return fmt.Sprintf("%s panicked: %v", e.what, e.value) }
func (e *panicError) Is(err error) bool { return err == ErrPanic }

// guard calls fn and returns its error; a panic in fn is recovered, logged
// at ERROR with its stack and returned as an error matching ErrPanic.
// what names the component and the call ("sink out deliver").
func guard(log *slog.Logger, what string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{what: what, value: r}
			log.Error("component panicked", slog.String("component_call", what), slog.Any("panic", r),
				slog.String("stack", string(debug.Stack())))
		}
	}()
	return fn()
}
