package pipelinetest

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
)

// TestSourceFactory checks a source factory as subtests of t: its type is
// a valid registry name; DefaultConfig returns a fresh pointer to a struct
// whose fields all have snake_case yaml tags; the defaults validate, or
// fail only with FieldErrors for the required fields named; a config of
// the wrong type is refused with pipeline.ErrInvalidConfig; and, when
// nothing is required, the defaults build a source.
func TestSourceFactory(t *testing.T, f pipeline.SourceFactory, required ...string) {
	t.Helper()
	testFactory(t, f, f.DefaultConfig, required)
	t.Run("WrongConfigType", func(t *testing.T) {
		t.Parallel()
		_, err := f.NewSource(testContext(t), pipeline.NopSettings("under-test"), wrongConfig{})
		require.ErrorIs(t, err, pipeline.ErrInvalidConfig)
	})
	if len(required) == 0 {
		t.Run("NewFromDefaults", func(t *testing.T) {
			t.Parallel()
			src, err := f.NewSource(testContext(t), pipeline.NopSettings("under-test"), f.DefaultConfig())
			require.NoError(t, err)
			require.NotNil(t, src)
		})
	}
}

// TestSinkFactory is TestSourceFactory for sinks; a sink built from the
// defaults must also close cleanly without Start.
func TestSinkFactory(t *testing.T, f pipeline.SinkFactory, required ...string) {
	t.Helper()
	testFactory(t, f, f.DefaultConfig, required)
	t.Run("WrongConfigType", func(t *testing.T) {
		t.Parallel()
		_, err := f.NewSink(testContext(t), pipeline.NopSettings("under-test"), wrongConfig{})
		require.ErrorIs(t, err, pipeline.ErrInvalidConfig)
	})
	if len(required) == 0 {
		t.Run("NewFromDefaults", func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			sink, err := f.NewSink(ctx, pipeline.NopSettings("under-test"), f.DefaultConfig())
			require.NoError(t, err)
			require.NotNil(t, sink)
			require.NoError(t, sink.Close(ctx), "close without start")
		})
	}
}

// wrongConfig is a config no factory accepts.
type wrongConfig struct{}

func (wrongConfig) Validate() error { return nil }

var yamlNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func testFactory(t *testing.T, f pipeline.Factory, defaults func() pipeline.Config, required []string) {
	t.Helper()
	t.Run("Type", func(t *testing.T) {
		t.Parallel()
		_, err := pipeline.NewRegistry(f)
		require.NoError(t, err, "type %q must be a valid registry name", f.Type())
	})
	t.Run("DefaultConfigFresh", func(t *testing.T) {
		t.Parallel()
		a, b := defaults(), defaults()
		require.NotNil(t, a)
		va := reflect.ValueOf(a)
		require.Equal(t, reflect.Pointer, va.Kind(), "DefaultConfig must return a pointer, got %T", a)
		require.Equal(t, reflect.Struct, va.Elem().Kind(), "DefaultConfig must point to a struct, got %T", a)
		require.NotSame(t, a, b, "DefaultConfig must return a new config on every call")
		assert.Equal(t, a, b, "DefaultConfig must be deterministic")
	})
	t.Run("YAMLTags", func(t *testing.T) {
		t.Parallel()
		checkYAMLTags(t, reflect.TypeOf(defaults()).Elem(), "")
	})
	t.Run("DefaultsValidate", func(t *testing.T) {
		t.Parallel()
		err := defaults().Validate()
		if len(required) == 0 {
			require.NoError(t, err, "the default config must be valid")
			return
		}
		require.Error(t, err, "the default config must miss the required fields %v", required)
		var reported []string
		for _, e := range pipeline.Unjoin(err) {
			var fe *pipeline.FieldError
			require.ErrorAs(t, e, &fe, "validation error %q is not a pipeline.FieldError", e)
			require.Contains(t, required, fe.Field, "the defaults fail on %q, which is not a required field: %v", fe.Field, e)
			reported = append(reported, fe.Field)
		}
		for _, r := range required {
			assert.Contains(t, reported, r, "required field %q not reported", r)
		}
	})
}

// checkYAMLTags requires a snake_case yaml tag on every exported field of
// typ and of nested config structs, with no name used twice.
func checkYAMLTags(t *testing.T, typ reflect.Type, prefix string) {
	t.Helper()
	var seen []string
	for i := range typ.NumField() {
		fld := typ.Field(i)
		if !fld.IsExported() {
			continue
		}
		tag, ok := fld.Tag.Lookup("yaml")
		if !assert.True(t, ok, "field %s%s has no yaml tag", prefix, fld.Name) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" && opts == "inline" && fld.Type.Kind() == reflect.Struct {
			checkYAMLTags(t, fld.Type, prefix) // its fields are the parent's
			continue
		}
		assert.Regexp(t, yamlNamePattern, name, "field %s%s: yaml name must be snake_case", prefix, fld.Name)
		assert.NotContains(t, seen, name, "yaml name %q used twice", prefix+name)
		seen = append(seen, name)
		ft := fld.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() != "time" && !implementsTextUnmarshaler(ft) {
			checkYAMLTags(t, ft, prefix+name+".")
		}
	}
}

func implementsTextUnmarshaler(t reflect.Type) bool {
	u := reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()
	return reflect.PointerTo(t).Implements(u)
}
