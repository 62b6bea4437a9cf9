package vmfaultsource

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// aemmVersion is the pinned amazon-ec2-metadata-mock, AWS's own IMDS
// simulator, from the Go module proxy.
const aemmVersion = "v1.13.0"

var (
	aemmOnce sync.Once
	aemmPath string
	aemmErr  error
)

// aemmBinary builds amazon-ec2-metadata-mock once into the user's cache
// directory (outside the repository), with go install, and returns its
// path. Later runs reuse it.
func aemmBinary(t *testing.T) string {
	t.Helper()
	aemmOnce.Do(func() {
		cache, err := os.UserCacheDir()
		if err != nil {
			aemmErr = err
			return
		}
		dir := filepath.Join(cache, "sluice-peers", "aemm-"+aemmVersion+"-"+runtime.GOOS+"-"+runtime.GOARCH)
		aemmPath = filepath.Join(dir, "ec2-metadata-mock")
		if _, err := os.Stat(aemmPath); err == nil {
			return
		}
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			aemmErr = err
			return
		}
		// Built into a temporary directory renamed into place, so that a
		// concurrent or interrupted build never leaves half a binary.
		tmp, err := os.MkdirTemp(filepath.Dir(dir), ".aemm-build-") //nolint:usetesting // beside dir, for an atomic rename; outlives the test
		if err != nil {
			aemmErr = err
			return
		}
		cmd := exec.Command("go", "install", "github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock@"+aemmVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
		cmd.Dir = tmp
		if out, err := cmd.CombinedOutput(); err != nil {
			aemmErr = fmt.Errorf("go install amazon-ec2-metadata-mock@%s: %w\n%s", aemmVersion, err, out)
			_ = os.RemoveAll(tmp)
			return
		}
		if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
			if _, statErr := os.Stat(aemmPath); statErr != nil { // not another build's result
				aemmErr = err
			}
		}
		_ = os.RemoveAll(tmp)
	})
	require.NoError(t, aemmErr, "building AWS's IMDS simulator")
	return aemmPath
}

// aemm is a running amazon-ec2-metadata-mock.
type aemm struct {
	URL  string
	port int
	cmd  *exec.Cmd
}

// startAEMM runs the simulator on 127.0.0.1 (port 0: a free one) with
// IMDSv2 only (-I) and args, and waits until it hands out tokens.
func startAEMM(t *testing.T, port int, args ...string) *aemm {
	t.Helper()
	bin := aemmBinary(t)
	if port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port = l.Addr().(*net.TCPAddr).Port
		require.NoError(t, l.Close())
	}
	args = append(args, "-n", "127.0.0.1", "-p", strconv.Itoa(port), "-I")
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir() // it looks for (and may save) its config file in HOME or the working dir
	cmd.Env = append(os.Environ(), "HOME="+cmd.Dir)
	log, err := os.Create(filepath.Join(cmd.Dir, "aemm.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = log, log
	require.NoError(t, cmd.Start())
	a := &aemm{URL: "http://127.0.0.1:" + strconv.Itoa(port), port: port, cmd: cmd}
	t.Cleanup(func() { a.stop(); _ = log.Close() })
	require.Eventually(t, func() bool {
		req, _ := http.NewRequest(http.MethodPut, a.URL+awsTokenPath, nil)
		req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 20*time.Millisecond, "amazon-ec2-metadata-mock did not start (args %v)", args)
	return a
}

func (a *aemm) stop() {
	if a.cmd.Process == nil || a.cmd.ProcessState != nil {
		return
	}
	_ = a.cmd.Process.Kill()
	_ = a.cmd.Wait()
}
