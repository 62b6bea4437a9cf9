// Package reserved names what belongs to the engine in an event: the
// "sluice." type prefix, the source URIs Sluice gives its own sources'
// events (/sluice/...), and the extension attributes Sluice writes or
// reads with a meaning (sluiceorigin, appendtime, chainhash, sequence,
// sluicerecord, idempotencykey, the kvp* attributes a route sets for the
// KVP sink, and any other sluice* name). An ingest (the http source) refuses
// events that carry them (CheckIngest), so that no client can pass for
// Sluice's own sources; sinks trust attributes and built-in mappings only
// where the engine vouches for them (SetByTransform, FromEngine).
package reserved

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/internal/eventtypes"
	"github.com/sluice-dev/sluice/pipeline"
)

// Prefixes and names reserved to the engine.
const (
	// TypePrefix starts the types of the events Sluice's sources emit.
	TypePrefix = eventtypes.Prefix
	// SourcePrefix starts the source URIs Sluice gives its sources'
	// events (/sluice/sources/NAME).
	SourcePrefix = "/sluice/"
	// ExtTransformSet lists (comma-separated) the kvp* attributes a route
	// transform set; the KVP sink honours those only. It exists only
	// between a route and its sinks, never in the journal.
	ExtTransformSet = "sluicetransformset"
)

// extensions are reserved extension names; names starting with one of
// extensionPrefixes are reserved too.
var (
	extensions        = []string{"appendtime", "chainhash", "sequence", "idempotencykey"}
	extensionPrefixes = []string{"sluice", "kvp"}
)

// ErrReserved is returned (wrapped) by CheckIngest.
var ErrReserved = errors.New("reserved to Sluice")

// IsExtension reports whether an extension name is reserved to the
// engine.
func IsExtension(name string) bool {
	n := strings.ToLower(name)
	if slices.Contains(extensions, n) {
		return true
	}
	for _, p := range extensionPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// CheckIngest refuses an event from outside the engine that claims to be
// the engine's: a type starting with "sluice.", a source URI starting
// with "/sluice/", or a reserved extension. The error names the
// attribute and wraps ErrReserved and pipeline.ErrInvalidCloudEvent.
// Case does not matter ("Sluice.Probe.State" is refused too).
func CheckIngest(e *pipeline.Event) error {
	switch {
	case strings.HasPrefix(strings.ToLower(e.Type), TypePrefix):
		return fmt.Errorf("%w: type %q: the %q prefix is %w (the types of its own sources)", pipeline.ErrInvalidCloudEvent, e.Type, TypePrefix, ErrReserved)
	case strings.HasPrefix(strings.ToLower(e.Source), SourcePrefix):
		return fmt.Errorf("%w: source %q: URIs under %q are %w (its own sources)", pipeline.ErrInvalidCloudEvent, e.Source, SourcePrefix, ErrReserved)
	}
	names := make([]string, 0, len(e.Extensions))
	for k := range e.Extensions {
		if IsExtension(k) {
			names = append(names, k)
		}
	}
	if len(names) > 0 {
		slices.Sort(names)
		return fmt.Errorf("%w: extension %q is %w (sluice*, kvp*, appendtime, chainhash, sequence, idempotencykey): a route transform sets kvp* attributes", pipeline.ErrInvalidCloudEvent, names[0], ErrReserved)
	}
	return nil
}

// FromEngine reports whether e carries the source URI the engine gives
// its own sources' events, /sluice/sources/ORIGIN (or none: an event not
// yet emitted, which the engine would give that URI). An ingested event
// never does (CheckIngest refuses such URIs, and the engine sets Origin
// to the ingesting source), so built-in mappings of Sluice's event types
// use it to refuse impersonations.
func FromEngine(e *pipeline.Event) bool {
	return e.Source == "" || e.Source == "/sluice/sources/"+e.Origin
}

// SetByTransform reports whether a route transform set extension name on
// e (ExtTransformSet lists it).
func SetByTransform(e *pipeline.Event, name string) bool {
	set, ok := e.Extensions[ExtTransformSet]
	if !ok {
		return false
	}
	for s := range strings.SplitSeq(set, ",") {
		if s == name {
			return true
		}
	}
	return false
}

// MarkTransformSet records in ext which of the names a transform set are
// kvp* attributes (ExtTransformSet), dropping any earlier list; ext is
// the transformed event's own map.
func MarkTransformSet(ext map[string]string, set []string) {
	delete(ext, ExtTransformSet)
	var kvp []string
	for _, n := range set {
		if strings.HasPrefix(n, "kvp") {
			kvp = append(kvp, n)
		}
	}
	if len(kvp) > 0 {
		slices.Sort(kvp)
		ext[ExtTransformSet] = strings.Join(kvp, ",")
	}
}
