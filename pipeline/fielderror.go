package pipeline

import (
	"errors"
	"fmt"
)

// FieldError is a validation error about one field of a component config.
// Field is the YAML path below the component's `with`, dot-separated with
// [i] for list elements (e.g. "tls.ca_file" or "headers[2]"), so the config
// loader can report the line and column where the value was written.
type FieldError struct {
	Field string
	Err   error
}

// Error implements error.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Err.Error()
	}
	return e.Field + ": " + e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *FieldError) Unwrap() error { return e.Err }

// FieldErrorf returns a FieldError for field with a formatted message.
func FieldErrorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// PrefixFieldErrors prefixes the Field of every FieldError joined in err
// with prefix (for nested configs); other errors become FieldErrors of
// prefix.
func PrefixFieldErrors(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var out []error
	for _, e := range Unjoin(err) {
		var fe *FieldError
		if errors.As(e, &fe) {
			f := prefix
			if fe.Field != "" {
				f = prefix + "." + fe.Field
			}
			out = append(out, &FieldError{Field: f, Err: fe.Err})
			continue
		}
		out = append(out, &FieldError{Field: prefix, Err: e})
	}
	return errors.Join(out...)
}

// Unjoin flattens errors joined with errors.Join into a list.
func Unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Unjoin(e)...)
		}
		return out
	}
	return []error{err}
}
