package pipeline

import (
	"fmt"
	"regexp"
	"slices"
)

// Registry maps component type names to factories. There is no global
// registry: the composition root builds one from explicit lists.
type Registry[F Factory] struct {
	byType map[string]F
}

var typeNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// NewRegistry returns a registry holding factories, or an error if any
// type is invalid or registered twice.
func NewRegistry[F Factory](factories ...F) (*Registry[F], error) {
	r := &Registry[F]{byType: make(map[string]F, len(factories))}
	for _, f := range factories {
		if err := r.Register(f); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register adds f. It returns ErrDuplicateType if its type is taken and an
// error if the type is not a lower-case identifier.
func (r *Registry[F]) Register(f F) error {
	t := f.Type()
	if !typeNamePattern.MatchString(t) {
		return fmt.Errorf("register %q: type must match %s", t, typeNamePattern)
	}
	if _, ok := r.byType[t]; ok {
		return fmt.Errorf("register %q: %w", t, ErrDuplicateType)
	}
	r.byType[t] = f
	return nil
}

// Lookup returns the factory for typ.
func (r *Registry[F]) Lookup(typ string) (F, bool) {
	f, ok := r.byType[typ]
	return f, ok
}

// Types returns the registered types, sorted.
func (r *Registry[F]) Types() []string {
	out := make([]string, 0, len(r.byType))
	for t := range r.byType {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Registries holds the factories of every component kind.
type Registries struct {
	Sources *Registry[SourceFactory]
	Sinks   *Registry[SinkFactory]
}
