package kvpsink_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/sluice-dev/sluice/internal/reserved"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sinks/kvpsink"
)

// testConfig is the default config writing to a pool file in a temporary
// directory.
func testConfig(t testing.TB) *kvpsink.Config {
	t.Helper()
	cfg, ok := kvpsink.NewFactory().DefaultConfig().(*kvpsink.Config)
	require.True(t, ok)
	cfg.Path = filepath.Join(t.TempDir(), ".kvp_pool_1")
	return cfg
}

func newSink(t testing.TB, cfg *kvpsink.Config, set ...pipeline.Settings) pipeline.Sink {
	t.Helper()
	s := pipeline.NopSettings("kvp")
	if len(set) > 0 {
		s = set[0]
	}
	sink, err := kvpsink.NewFactory().NewSink(context.Background(), s, cfg)
	require.NoError(t, err)
	return sink
}

// startSink builds and starts a sink and closes it when the test ends.
func startSink(t testing.TB, cfg *kvpsink.Config, set ...pipeline.Settings) pipeline.Sink {
	t.Helper()
	s := newSink(t, cfg, set...)
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(func() { assert.NoError(t, s.Close(context.Background())) })
	return s
}

// readPool decodes a pool file with the Go decoder; a missing file has no
// events.
func readPool(t testing.TB, path string) []kvpsink.Message {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	return decodePool(t, b)
}

// uuidOf is the key's uuid field for a delivery.
func uuidOf(d *pipeline.Delivery) string {
	id := kvpsink.DeliveryID(d)
	return fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:16])
}

func TestConformance(t *testing.T) {
	t.Parallel()
	// The suite's events are SampleDeliveries; the record's uuid (the
	// delivery key) leads back to the event's id.
	ids := map[string]string{}
	for _, d := range pipelinetest.SampleDeliveries(1, 100) {
		ids[uuidOf(&d)] = d.Event.ID
	}
	for _, mode := range []kvpsink.Mode{kvpsink.ModeHostSafe, kvpsink.ModeCloudInit} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			pipelinetest.TestSink(t, func(t *testing.T) (pipeline.Sink, func() []pipeline.Event) {
				cfg := testConfig(t)
				cfg.Mode = mode
				return newSink(t, cfg), func() []pipeline.Event {
					var out []pipeline.Event
					for _, m := range readPool(t, cfg.Path) {
						e := pipeline.Event{ID: ids[m.UUID], Type: m.Type, Time: parseTS(t, m.TS)}
						_, e.Subject, _ = strings.Cut(m.Name, "/")
						var b64 struct{ Encoding, Data string }
						switch {
						case json.Unmarshal([]byte(m.Msg), &b64) == nil && b64.Encoding == "base64":
							var err error
							e.Data, err = base64.StdEncoding.DecodeString(b64.Data)
							require.NoError(t, err)
						case m.Msg != "":
							e.Data = []byte(m.Msg)
						}
						out = append(out, e)
					}
					return out
				}
			})
		})
	}
}

// delivery is a delivery of one event with the given attributes.
// The kvp* attributes in ext count as set by a route transform
// (reserved.ExtTransformSet lists them), as they are in a running
// engine.
func delivery(id string, ext map[string]string, data string) pipeline.Delivery {
	if ext != nil {
		var set []string
		for k := range ext {
			set = append(set, k)
		}
		reserved.MarkTransformSet(ext, set)
	}
	e := pipeline.Event{
		ID: id, Source: "/test", Type: "sluice.test", Subject: "subj-" + id, Origin: "src",
		Time: time.Date(2025, 6, 7, 8, 9, 10, 123456000, time.UTC), Extensions: ext,
		DataContentType: "text/plain", Data: []byte(data),
	}
	return pipeline.Delivery{Event: e, Key: pipeline.IdempotencyKey(e.Source, e.ID, "kvp"), Route: "r"}
}

func TestDeliverMapsEvents(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	s := startSink(t, cfg)
	batch := []pipeline.Delivery{
		delivery("a", nil, "plain data"),
		delivery("b", map[string]string{"kvptype": "diagnostic", "kvpname": "custom/name", "kvpresult": "FAIL", "kvpmsg": "override"}, "ignored"),
		delivery("c", map[string]string{"kvpmsg": ""}, "ignored too"),
	}
	batch[0].Event.Subject = ""
	require.NoError(t, s.Deliver(t.Context(), batch))

	msgs := readPool(t, cfg.Path)
	require.Len(t, msgs, 3)
	assert.Equal(t, "sluice.test", msgs[0].Type)
	assert.Equal(t, "src", msgs[0].Name)
	assert.False(t, msgs[0].HasResult)
	assert.Equal(t, "plain data", msgs[0].Msg)
	assert.Equal(t, "2025-06-07T08:09:10.123456Z", msgs[0].TS)
	assert.Equal(t, kvpsink.DefaultPrefix, msgs[0].Prefix)
	assert.Equal(t, uuidOf(&batch[0]), msgs[0].UUID)
	assert.Equal(t, strings.ReplaceAll(msgs[0].UUID, "-", ""), batch[0].Key, "the uuid is the idempotency key")

	assert.Equal(t, "diagnostic", msgs[1].Type)
	assert.Equal(t, "custom/name", msgs[1].Name)
	assert.Equal(t, "FAIL", msgs[1].Result)
	assert.Equal(t, "override", msgs[1].Msg)

	assert.Equal(t, "src/subj-c", msgs[2].Name)
	assert.Empty(t, msgs[2].Msg)

	// A retry writes the same records again: consumers drop them by key.
	require.NoError(t, s.Deliver(t.Context(), batch[:1]))
	msgs = readPool(t, cfg.Path)
	require.Len(t, msgs, 4)
	assert.Equal(t, msgs[0].Key, msgs[3].Key)
}

func TestMissingDirectoryIsRetried(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Path = filepath.Join(filepath.Dir(cfg.Path), "hyperv", ".kvp_pool_1")
	s := startSink(t, cfg) // Start does not fail: the directory may come later
	batch := []pipeline.Delivery{delivery("a", nil, "x")}
	err := s.Deliver(t.Context(), batch)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "directory "+filepath.Dir(cfg.Path)+" does not exist")
	assert.False(t, pipeline.IsPermanent(err), "a missing directory is retried")

	require.NoError(t, os.Mkdir(filepath.Dir(cfg.Path), 0o755))
	require.NoError(t, s.Deliver(t.Context(), batch), "the retry succeeds once the directory exists")
	require.Len(t, readPool(t, cfg.Path), 1)
	fi, err := os.Stat(cfg.Path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "created private by default (event data and probe output)")
}

func TestNotARegularFile(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	require.NoError(t, os.Mkdir(cfg.Path, 0o755))
	s := startSink(t, cfg)
	err := s.Deliver(t.Context(), []pipeline.Delivery{delivery("a", nil, "x")})
	require.Error(t, err)
	assert.False(t, pipeline.IsPermanent(err))
	assert.Contains(t, err.Error(), cfg.Path)
}

func TestPoolFull(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.MaxFileBytes = 64 << 10 // 25 records and 1536 bytes
	s := startSink(t, cfg)
	var batch []pipeline.Delivery
	for i := range 30 {
		batch = append(batch, delivery(fmt.Sprint(i), nil, "x"))
	}
	// One sliced event of 3 records does not fit after 23 records.
	batch[23].Event.Data = []byte(strings.Repeat("y", 2500))
	err := s.Deliver(t.Context(), batch)
	var be *pipeline.BatchError
	require.ErrorAs(t, err, &be)
	require.Len(t, be.Failed, 7)
	for i, f := range be.Failed {
		assert.Equal(t, 23+i, f.Index)
		assert.True(t, pipeline.IsPermanent(f.Err), "a full pool fails permanently")
		require.ErrorIs(t, f.Err, kvpsink.ErrPoolFull)
	}
	assert.Contains(t, be.Failed[0].Err.Error(), "max_file_bytes 64KiB")
	assert.Len(t, readPool(t, cfg.Path), 23, "the events before the one that did not fit are written")

	fi, err := os.Stat(cfg.Path)
	require.NoError(t, err)
	assert.LessOrEqual(t, fi.Size(), int64(cfg.MaxFileBytes))

	// Small events still fit until the cap is reached, then nothing does.
	err = s.Deliver(t.Context(), batch[24:])
	require.ErrorAs(t, err, &be)
	assert.Len(t, be.Failed, 4)
	assert.Len(t, readPool(t, cfg.Path), 25)
	err = s.Deliver(t.Context(), batch[:1])
	require.ErrorAs(t, err, &be)
	assert.Len(t, be.Failed, 1)
}

func TestPartialRecordIsCut(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	s := startSink(t, cfg)
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{delivery("a", nil, "x")}))
	// A writer crashed in the middle of a record.
	f, err := os.OpenFile(cfg.Path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(make([]byte, 1000))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{delivery("b", nil, "y")}))
	msgs := readPool(t, cfg.Path) // fails on a misaligned record
	require.Len(t, msgs, 2)
	assert.Equal(t, "y", msgs[1].Msg)
}

func TestDeliverBeforeStartAndAfterClose(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	s := newSink(t, cfg)
	batch := []pipeline.Delivery{delivery("a", nil, "x")}
	require.ErrorIs(t, s.Deliver(t.Context(), batch), kvpsink.ErrNotStarted)
	require.NoError(t, s.Start(t.Context()))
	require.Error(t, s.Start(t.Context()), "start twice")
	require.NoError(t, s.Close(t.Context()))
	require.ErrorIs(t, s.Deliver(t.Context(), batch), kvpsink.ErrNotStarted)
}

// TestReadOnlyFileIsRetried: a pool file this process may not write fails
// the delivery with an error that says so, retried rather than dropped.
// As root, file modes do not stop writes, so the delivery runs on a thread
// whose filesystem uid is "nobody" (setfsuid(2) is per thread, and also
// drops CAP_DAC_OVERRIDE for that thread).
func TestReadOnlyFileIsRetried(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	require.NoError(t, os.WriteFile(cfg.Path, nil, 0o444))
	dir := filepath.Dir(cfg.Path)
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	s := startSink(t, cfg)
	batch := []pipeline.Delivery{delivery("a", nil, "x")}

	err := asUnprivileged(t, func() error { return s.Deliver(t.Context(), batch) })
	require.Error(t, err)
	assert.Contains(t, err.Error(), cfg.Path+" is not writable by this process")
	require.ErrorIs(t, err, os.ErrPermission)
	assert.False(t, pipeline.IsPermanent(err), "retried: an operator can fix the permissions")

	require.NoError(t, os.Chmod(cfg.Path, 0o666)) // writable by anyone: the same thread now succeeds
	require.NoError(t, asUnprivileged(t, func() error { return s.Deliver(t.Context(), batch) }))
	assert.Len(t, readPool(t, cfg.Path), 1)
}

// asUnprivileged runs fn with the filesystem permissions of uid 65534: on
// a locked thread with that filesystem uid when running as root, directly
// otherwise.
func asUnprivileged(t *testing.T, fn func() error) error {
	t.Helper()
	if os.Geteuid() != 0 {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		// The thread is never unlocked: it ends with the goroutine, so
		// its changed filesystem uid dies with it.
		runtime.LockOSThread()
		_ = unix.Setfsuid(65534)
		if cur, _ := unix.SetfsuidRetUid(-1); cur != 65534 {
			errc <- fmt.Errorf("setfsuid did not take effect (fsuid %d)", cur)
			return
		}
		errc <- fn()
	}()
	return <-errc
}
