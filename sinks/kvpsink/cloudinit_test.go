package kvpsink_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/reserved"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sinks/kvpsink"
)

// Tests against the real cloud-init (see harness_test.go).

// boundaryReports are values around cloud-init's slicing threshold and
// escapes at its cut positions.
func boundaryReports() []kvpsink.Report {
	ts := time.Unix(1700000000, 0)
	meta := len(`{"name":"n","type":"x","ts":"2023-11-14T22:13:20Z","msg":""}`)
	var out []kvpsink.Report
	for _, n := range []int{1021, 1022, 1023, 1024, 1025, 2048, 5000} {
		out = append(out, kvpsink.Report{Type: "x", Name: "n", Time: ts, Msg: strings.Repeat("m", n-meta)})
	}
	// An escape at every offset around the first cut.
	for off := 940; off < 960; off++ {
		out = append(out, kvpsink.Report{Type: "x", Name: "n", Time: ts,
			Msg: strings.Repeat("a", off) + "\u00e9\U0001F600\"\\" + strings.Repeat("b", 900)})
	}
	return out
}

// TestEncoderMatchesCloudInit encodes the same events with cloud-init's
// _encode_event and with the Encoder in cloud-init mode: the bytes must be
// equal. Host-safe mode must equal them where its limits do not apply.
func TestEncoderMatchesCloudInit(t *testing.T) {
	t.Parallel()
	golden := goldenReports()
	reports := slices.Concat(golden[:len(golden)-1], boundaryReports()) // the capped report would loop cloud-init forever
	var in []ciReport
	var cloudInit, hostSafe []byte
	var sameInHostSafe []bool
	for i, r := range reports {
		var id [16]byte
		id[0], id[15] = 0xab, byte(i)
		c := ciReport{Prefix: "CLOUD_INIT", Incarnation: 1699999958, UUID: fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:16]),
			Type: r.Type, Name: r.Name, TSMicros: r.Time.UnixMicro(), Msg: r.Msg}
		if r.Result != "" {
			c.Result = &r.Result
		}
		in = append(in, c)
		enc := kvpsink.Encoder{Prefix: "CLOUD_INIT", Incarnation: 1699999958, Mode: kvpsink.ModeCloudInit}
		var a, b []byte
		a, _ = enc.Append(nil, &r, id)
		enc.Mode = kvpsink.ModeHostSafe
		b, _ = enc.Append(nil, &r, id)
		cloudInit = append(cloudInit, a...)
		hostSafe = append(hostSafe, b...)
		sameInHostSafe = append(sameInHostSafe, string(a) == string(b))
	}
	want := cloudInitEncode(t, in)
	require.Len(t, cloudInit, len(want))
	for i := 0; i < len(want); i += kvpsink.RecordSize {
		require.Equal(t, string(want[i:i+kvpsink.RecordSize]), string(cloudInit[i:i+kvpsink.RecordSize]), "record %d", i/kvpsink.RecordSize)
	}
	// Host-safe differs only for values of 1023-1024 bytes and escapes at
	// cut positions.
	assert.Equal(t, []bool{true, true, true, true, true, true, false, false}, sameInHostSafe[:8], "golden reports")
	assert.Equal(t, []bool{true, true, false, false, true, true, true}, sameInHostSafe[8:15], "threshold reports")
	checkLimits(t, hostSafe, kvpsink.ModeHostSafe)
}

// TestCloudInitReadsGivenTimeAndCompactJSON: an event whose time is the
// zero instant keeps it (cloud-init writes the time it is given, it has no
// "absent" time), an event without a time gets the delivery time, and JSON
// data is written compacted. cloud-init's encoder agrees on the zero time,
// and its reader reads back exactly that.
func TestCloudInitReadsGivenTimeAndCompactJSON(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	s := startSink(t, cfg)
	zero := delivery("zero", nil, "x")
	zero.Event.Time, zero.Event.TimeGiven = time.Time{}, true
	absent := delivery("absent", nil, "y")
	absent.Event.Time = time.Time{}
	js := delivery("json", nil, "{ \"a\" : 1,\n  \"b\": [1, 2],\t\"s\": \"\u00e9 <x> \\\" \" }")
	js.Event.DataContentType = "application/json; charset=utf-8"
	notJSON := delivery("notjson", nil, "{ not json }")
	notJSON.Event.DataContentType = "application/json"
	before := time.Now().UTC().Add(-time.Second)
	require.NoError(t, s.Deliver(t.Context(), []pipeline.Delivery{zero, absent, js, notJSON}))

	pool := cloudInitDecode(t, cfg.Path)
	require.Len(t, pool.Events, 4)
	assert.Equal(t, "0001-01-01T00:00:00Z", pool.Events[0].TS)
	ts, err := time.Parse(time.RFC3339Nano, pool.Events[1].TS)
	require.NoError(t, err)
	assert.True(t, ts.After(before), "an absent time is the delivery time, got %s", pool.Events[1].TS)
	compact := `{"a":1,"b":[1,2],"s":"é <x> \" "}` // these bytes exactly, not just equal JSON
	assert.Equal(t, compact, pool.Events[2].Msg)
	assert.Equal(t, "{ not json }", pool.Events[3].Msg, "invalid JSON is written as the text it is")

	// cloud-init's own encoder writes the zero instant the same way.
	r := kvpsink.ReportOf(&zero.Event, time.Now())
	id := kvpsink.DeliveryID(&zero)
	enc := kvpsink.Encoder{Prefix: "CLOUD_INIT", Incarnation: 1699999958, Mode: kvpsink.ModeCloudInit}
	got, _ := enc.Append(nil, &r, id)
	want := cloudInitEncode(t, []ciReport{{Prefix: "CLOUD_INIT", Incarnation: 1699999958,
		UUID: fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:16]),
		Type: r.Type, Name: r.Name, TSMicros: r.Time.UnixMicro(), Msg: r.Msg}})
	assert.Equal(t, string(want), string(got))
}

// messyDeliveries are long, sliced and non-ASCII messages.
func messyDeliveries() []pipeline.Delivery {
	msgs := []string{
		"short",
		strings.Repeat("0123456789", 300),
		"h\u00e9llo w\u00f6rld \u2603 \U0001F600 \"quoted\" back\\slash\nnew line\x00nul",
		strings.Repeat("\u00e9\"\\\n\U0001F600", 300),
		strings.Repeat(`"`, 1200),
		`{"json":"data","n":[1,2,3]}`,
	}
	var out []pipeline.Delivery
	for i, m := range msgs {
		d := delivery(fmt.Sprint("evt-", i), nil, m)
		if i == 2 {
			d.Event.Subject = "\u30b5\u30d6\u30b8\u30a7\u30af\u30c8" // a non-ASCII name
			d.Event.Extensions = map[string]string{"kvpresult": "WARN", reserved.ExtTransformSet: "kvpresult"}
		}
		out = append(out, d)
	}
	return out
}

// TestCloudInitDecodesSinkOutput delivers long, sliced and non-ASCII
// messages through the sink and decodes the pool file with cloud-init's
// own reader: every event comes back whole.
func TestCloudInitDecodesSinkOutput(t *testing.T) {
	t.Parallel()
	for _, mode := range []kvpsink.Mode{kvpsink.ModeHostSafe, kvpsink.ModeCloudInit} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			cfg.Mode = mode
			s := startSink(t, cfg)
			batch := messyDeliveries()
			require.NoError(t, s.Deliver(t.Context(), batch[:2]))
			require.NoError(t, s.Deliver(t.Context(), batch[2:]))

			pool := cloudInitDecode(t, cfg.Path)
			assert.Zero(t, pool.Partial)
			require.Len(t, pool.Events, len(batch))
			sliced := 0
			for i, d := range batch {
				want := kvpsink.ReportOf(&d.Event, time.Time{})
				got := pool.Events[i]
				assert.Equal(t, want.Msg, got.Msg, "event %d", i)
				assert.Equal(t, want.Name, got.Name, "event %d", i)
				assert.Equal(t, want.Type, got.Type, "event %d", i)
				assert.Equal(t, kvpsink.FormatTimestamp(want.Time), got.TS, "event %d", i)
				if want.Result != "" {
					require.NotNil(t, got.Result, "event %d", i)
					assert.Equal(t, want.Result, *got.Result)
				} else {
					assert.Nil(t, got.Result, "event %d", i)
				}
				assert.True(t, strings.HasSuffix(got.Key, "|"+uuidOf(&batch[i])), "event %d key %q", i, got.Key)
				if got.Slices > 0 {
					sliced++
				}
			}
			assert.Equal(t, 3, sliced, "events 1, 3 and 4 are sliced")
			if mode == kvpsink.ModeHostSafe {
				for i, r := range pool.Records {
					assert.True(t, r.JSONOK, "record %d: every host-safe record is valid JSON: %s", i, r.Value)
					assert.LessOrEqual(t, len(r.Key), kvpsink.HostMaxKey)
					assert.LessOrEqual(t, len(r.Value), kvpsink.HostMaxValue)
				}
			}
		})
	}
}

// TestConcurrentWithCloudInitWriter appends with cloud-init's own writer
// (its publisher thread, taking flock) while the sink appends to the same
// file: every event of both decodes with cloud-init's reader, and the
// records of each event are contiguous.
func TestConcurrentWithCloudInitWriter(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	// Both writers together pass the default cap (cloud-init's writer has
	// none): when cloud-init writes first, the sink's last batches would be
	// refused, so the cap is out of this test's way.
	cfg.MaxFileBytes = 4 * kvpsink.DefaultMaxFileBytes
	s := startSink(t, cfg)

	const pyEvents = 200
	var wg sync.WaitGroup
	var pyOut []byte
	wg.Go(func() { pyOut = harness(t, nil, "write", cfg.Path, fmt.Sprint(pyEvents), "cloud-init") })
	var sent []pipeline.Delivery
	for round := range 40 {
		batch := messyDeliveries()[:4]
		for i := range batch {
			batch[i] = delivery(fmt.Sprintf("r%d-%d", round, i), nil, string(batch[i].Event.Data))
		}
		require.NoError(t, s.Deliver(t.Context(), batch))
		sent = append(sent, batch...)
		time.Sleep(time.Millisecond)
	}
	wg.Wait()

	pool := cloudInitDecode(t, cfg.Path)
	byName := map[string]ciEvent{}
	for _, e := range pool.Events {
		byName[e.Name] = e
	}
	require.Len(t, pool.Events, pyEvents+len(sent))
	for _, d := range sent {
		want := kvpsink.ReportOf(&d.Event, time.Time{})
		got, ok := byName[want.Name]
		require.True(t, ok, "sink event %s missing", want.Name)
		assert.Equal(t, want.Msg, got.Msg, "sink event %s", want.Name)
	}
	sc := bufio.NewScanner(strings.NewReader(string(pyOut)))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var want struct{ Name, Type, Msg string }
		require.NoError(t, json.Unmarshal(sc.Bytes(), &want))
		got, ok := byName[want.Name]
		require.True(t, ok, "cloud-init event %s missing", want.Name)
		assert.Equal(t, want.Msg, got.Msg, "cloud-init event %s", want.Name)
		n++
	}
	require.Equal(t, pyEvents, n)

	// Slices of one event are adjacent: no writer interleaved another's.
	last := ""
	seen := map[string]bool{}
	for i, r := range pool.Records {
		base := r.Key
		if strings.Contains(r.Value, `"msg_i":`) {
			base = r.Key[:strings.LastIndexByte(r.Key, '|')]
		}
		if base != last {
			require.False(t, seen[base], "record %d: event %s is split", i, base)
			seen[base], last = true, base
		}
	}
}

// TestLocksExcludeOtherWriters holds cloud-init's flock, then the fcntl
// record lock hv_kvp_daemon takes, from another process: the sink waits
// for each before it writes.
func TestLocksExcludeOtherWriters(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"flock", "fcntl"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			s := startSink(t, cfg)
			release := holdLock(t, cfg.Path, kind)
			done := make(chan error, 1)
			go func() { done <- s.Deliver(t.Context(), []pipeline.Delivery{delivery("a", nil, "x")}) }()
			select {
			case err := <-done:
				t.Fatalf("Deliver returned while another process held the %s: %v", kind, err)
			case <-time.After(300 * time.Millisecond):
			}
			assert.Empty(t, readPool(t, cfg.Path), "nothing written while the lock is held")
			release()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(10 * time.Second):
				t.Fatal("Deliver did not finish after the lock was released")
			}
			assert.Len(t, readPool(t, cfg.Path), 1)
		})
	}
}

// TestLockTimeout: a lock held past lock_timeout fails the delivery with
// ErrLockTimeout (retried, not dead-lettered), and a cancelled context
// ends the wait.
func TestLockTimeout(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.LockTimeout = 200 * time.Millisecond
	s := startSink(t, cfg)
	release := holdLock(t, cfg.Path, "fcntl")
	defer release()
	start := time.Now()
	err := s.Deliver(t.Context(), []pipeline.Delivery{delivery("a", nil, "x")})
	require.ErrorIs(t, err, kvpsink.ErrLockTimeout)
	assert.False(t, pipeline.IsPermanent(err))
	assert.Contains(t, err.Error(), "fcntl lock")
	assert.GreaterOrEqual(t, time.Since(start), cfg.LockTimeout)

	cfg2 := *cfg
	cfg2.LockTimeout = time.Minute
	s2 := startSink(t, &cfg2)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err = s2.Deliver(ctx, []pipeline.Delivery{delivery("a", nil, "x")})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Empty(t, readPool(t, cfg.Path))
}

// holdLock makes another process take a lock on path and returns a
// function that releases it.
func holdLock(t *testing.T, path, kind string) func() {
	t.Helper()
	cmd := exec.Command(python(t), harnessPath(t), "lock", path, kind)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "locked\n", line)
	var once sync.Once
	release := func() {
		once.Do(func() {
			_ = stdin.Close()
			_, _ = io.Copy(io.Discard, stdout)
			assert.NoError(t, cmd.Wait())
		})
	}
	t.Cleanup(release)
	return release
}
