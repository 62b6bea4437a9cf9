package probesource_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/pipeline/pipelinetest"
	"github.com/sluice-dev/sluice/sources/probesource"
)

// benchServerEnv makes the test binary a loopback HTTP server (see
// TestMain), so that the benchmark measures the probing process alone.
const benchServerEnv = "SLUICE_PROBE_BENCH_SERVER"

// runBenchServer serves 200 "ok" on a loopback port, prints the address,
// and when its stdin closes prints how many requests it answered and how
// many connections it accepted.
func runBenchServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var n, conns atomic.Int64
	srv := &http.Server{
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				conns.Add(1)
			}
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			n.Add(1)
			_, _ = io.WriteString(w, "ok")
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	fmt.Println(ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = srv.Close()
	fmt.Println(n.Load(), conns.Load())
}

// benchProbes, benchWarmup and benchMeasure shape the benchmark: 1,000
// probes at 1 s, measured for 6 s after a warm-up that covers the first
// check of every probe (jitter spreads them over one interval).
const (
	benchProbes  = 1000
	benchWarmup  = 2 * time.Second
	benchMeasure = 6 * time.Second
)

// BenchmarkThousandHTTPProbes runs 1,000 http probes at a 1 s interval
// against a loopback server in another process, and reports the CPU of
// this process (getrusage user+sys over wall time, in percent of one
// core), its resident memory (VmRSS and VmHWM) and the checks per second.
// The baseline sub-benchmark makes the same 1,000 requests a second with
// a bare net/http client loop, in the same run, for the ratio. Each runs
// once, for about 8 s, whatever b.N is.
func BenchmarkThousandHTTPProbes(b *testing.B) {
	b.Run("probesource", func(b *testing.B) {
		measure(b, func(ctx context.Context, addr string) func() {
			var cfg strings.Builder
			cfg.WriteString("{interval: 1s, timeout: 1s, failure_threshold: 3, probes: [\n")
			for i := range benchProbes {
				fmt.Fprintf(&cfg, "{name: p%d, kind: http, url: 'http://%s/health/%d'},\n", i, addr, i)
			}
			cfg.WriteString("]}")
			conf, err := decodeB(cfg.String())
			require.NoError(b, err)
			src, err := probesource.NewFactory().NewSource(ctx, pipeline.NopSettings("bench"), conf)
			require.NoError(b, err)
			host := pipelinetest.NewRecordingHost("bench")
			ctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- src.Run(ctx, host) }()
			return func() {
				cancel()
				require.NoError(b, <-done)
				// 1,000 (each probe became healthy once and stayed so) unless
				// the machine starved the process past the 1 s timeout.
				b.ReportMetric(float64(len(eventsOf(host, probesource.TypeState))), "transitions")
			}
		})
	})
	b.Run("nethttp-baseline", func(b *testing.B) {
		measure(b, func(ctx context.Context, addr string) func() {
			ctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
				defer client.CloseIdleConnections()
				tick := time.NewTicker(time.Second / benchProbes)
				defer tick.Stop()
				for i := 0; ; i++ {
					select {
					case <-ctx.Done():
						return
					case <-tick.C:
					}
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/health/%d", addr, i%benchProbes), nil)
					resp, err := client.Do(req)
					if err != nil {
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			}()
			return func() {
				cancel()
				<-done
			}
		})
	})
}

// measure starts the loopback server, then load (which returns its stop
// function), and reports what this process spent over benchMeasure after
// benchWarmup.
func measure(b *testing.B, load func(ctx context.Context, addr string) (stop func())) {
	b.ReportAllocs()
	addr, stopServer := startBenchServer(b)
	runtime.GC()
	base := procStatus(b, "VmRSS")
	stop := load(b.Context(), addr)
	time.Sleep(benchWarmup)

	b.ResetTimer()
	before, t0 := rusage(b), time.Now()
	time.Sleep(benchMeasure)
	after, wall := rusage(b), time.Since(t0)
	b.StopTimer()
	rss, hwm := procStatus(b, "VmRSS"), procStatus(b, "VmHWM")
	stop()
	requests, conns := stopServer()

	b.ReportMetric((after-before).Seconds()/wall.Seconds()*100, "%cpu")
	b.ReportMetric(float64(rss)/(1<<20), "rss-MB")
	b.ReportMetric(float64(hwm)/(1<<20), "hwm-MB")
	b.ReportMetric(float64(base)/(1<<20), "rss-before-MB")
	b.ReportMetric(float64(requests)/(benchWarmup+wall).Seconds(), "checks/s")
	b.ReportMetric(float64(conns), "conns")
}

func decodeB(text string) (*probesource.Config, error) {
	cfg := probesource.NewFactory().DefaultConfig().(*probesource.Config)
	if err := yamlDecode(text, cfg); err != nil {
		return nil, err
	}
	return cfg, cfg.Validate()
}

// startBenchServer starts the server process; stop ends it and returns
// how many requests it answered and connections it accepted.
func startBenchServer(b *testing.B) (addr string, stop func() (requests, conns int)) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(b, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(b, err)
	cmd.Stderr = os.Stderr
	require.NoError(b, cmd.Start())
	lines := bufio.NewScanner(stdout)
	require.True(b, lines.Scan(), "the bench server prints its address")
	addr = lines.Text()
	stopped := false
	stop = func() (requests, conns int) {
		if stopped {
			return 0, 0
		}
		stopped = true
		_ = stdin.Close()
		if lines.Scan() {
			_, _ = fmt.Sscan(lines.Text(), &requests, &conns)
		}
		_ = cmd.Wait()
		return requests, conns
	}
	b.Cleanup(func() { stop() })
	return addr, stop
}

// rusage returns this process's user+sys CPU time.
func rusage(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStatus returns a "kB" field of /proc/self/status in bytes.
func procStatus(b *testing.B, field string) int64 {
	b.Helper()
	data, err := os.ReadFile("/proc/self/status")
	require.NoError(b, err)
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			require.NoError(b, err)
			return kb << 10
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}
