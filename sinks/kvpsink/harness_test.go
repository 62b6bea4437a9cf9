package kvpsink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The real peer: cloud-init 22.4 from the Debian package (.ci/run installs
// it), driven by testdata/kvp_decode.py.

var (
	pythonOnce sync.Once
	pythonPath string
	pythonErr  error
)

// harnessPath is the harness script, absolute so that it works from any
// directory.
func harnessPath(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "kvp_decode.py"))
	require.NoError(t, err)
	return p
}

// python returns a python3 that imports cloud-init's reporting handlers,
// preferring Debian's /usr/bin/python3; it fails the test when there is
// none.
func python(t testing.TB) string {
	t.Helper()
	pythonOnce.Do(func() {
		for _, p := range []string{"/usr/bin/python3", "python3"} {
			path, err := exec.LookPath(p)
			if err != nil {
				pythonErr = err
				continue
			}
			out, err := exec.Command(path, "-c", "import cloudinit.reporting.handlers").CombinedOutput()
			if err != nil {
				pythonErr = &exec.Error{Name: path, Err: errorString(string(out))}
				continue
			}
			pythonPath, pythonErr = path, nil
			return
		}
	})
	require.NoError(t, pythonErr, "these tests need cloud-init's Python package: apt-get install cloud-init python3 (.ci/run installs them)")
	return pythonPath
}

type errorString string

func (e errorString) Error() string { return string(e) }

// harness runs kvp_decode.py with stdin and returns its stdout.
func harness(t testing.TB, stdin []byte, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python(t), append([]string{harnessPath(t)}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "kvp_decode.py %v: %s", args, errb.String())
	return out.Bytes()
}

// ciPool is what cloud-init's decoder reads from a pool file.
type ciPool struct {
	Records []struct {
		Key    string `json:"key"`
		Value  string `json:"value"`
		JSONOK bool   `json:"json_ok"`
	} `json:"records"`
	Events  []ciEvent `json:"events"`
	Partial int       `json:"partial"`
}

type ciEvent struct {
	Key    string  `json:"key"`
	Slices int     `json:"slices"`
	Name   string  `json:"name"`
	Type   string  `json:"type"`
	TS     string  `json:"ts"`
	Result *string `json:"result"`
	Msg    string  `json:"msg"`
}

// cloudInitDecode decodes a pool file with cloud-init's own reader and
// reassembles sliced events.
func cloudInitDecode(t testing.TB, path string) ciPool {
	t.Helper()
	var p ciPool
	out := harness(t, nil, "decode", path)
	require.NoError(t, json.Unmarshal(out, &p), "harness output: %s", out)
	return p
}

// ciReport is one line of the harness's encode input.
type ciReport struct {
	Prefix      string  `json:"prefix"`
	Incarnation int64   `json:"incarnation"`
	UUID        string  `json:"uuid"`
	Type        string  `json:"type"`
	Name        string  `json:"name"`
	TSMicros    int64   `json:"ts_us"`
	Result      *string `json:"result,omitempty"`
	Msg         string  `json:"msg"`
}

// cloudInitEncode writes reports with cloud-init's own encoder and
// returns the pool file's bytes.
func cloudInitEncode(t testing.TB, reports []ciReport) []byte {
	t.Helper()
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, r := range reports {
		require.NoError(t, enc.Encode(r))
	}
	path := filepath.Join(t.TempDir(), "pool")
	harness(t, in.Bytes(), "encode", path)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
