package e2e

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/internal/fakenova"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat
// (100 on every Linux architecture Sluice ships for).
const clockTicks = 100

// procCPU returns the user+system CPU time of pid from /proc/PID/stat.
func procCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(b, err)
	// The command may hold spaces: the fields after it follow the last ')'.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, err := strconv.ParseInt(fields[11], 10, 64) // field 14 of stat
	require.NoError(b, err)
	stime, err := strconv.ParseInt(fields[12], 10, 64) // field 15
	require.NoError(b, err)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// procKB returns a kB field of /proc/PID/status in bytes.
func procKB(b *testing.B, pid int, field string) int64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(b, err)
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			require.NoError(b, err)
			return kb << 10
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// BenchmarkVMFaultEngine measures the ENGINE, a `sluice run` process,
// running one vmfault source (provider openstack) with 10 watch entries
// ({tenant: tenant-N, all: true}, one project and token each) over 1,000
// ACTIVE servers, 100 per project, served by the Keystone+Nova fake in
// this (the benchmark's) process. The binary is the release build
// (releaseBinary: Taskfile.yml's build flags), installed by copying it as
// a package install does. The engine's CPU is utime+stime of
// /proc/PID/stat over wall time, its memory VmRSS and VmHWM of
// /proc/PID/status, with its parts RssAnon (the process's own memory)
// and RssFile (pages of the mapped binary, shared and reclaimable). Three
// phases, one engine each: "busy" polls every 1 s, thirty times the
// default 30 s; "idle" polls every hour (one poll at start, then only the
// engine's own background); "base" runs a heartbeat source instead, for
// the engine's own memory. A fourth, "linked", is base again with the
// e2e harness's binary as `go build` leaves it (cgo, symbols, freshly
// written by the linker), for comparison: its RssFile is larger for the
// same pages touched, because the page cache holds a freshly linked file
// in larger folios and a fault maps a whole folio (docs/benchmarks.md).
// The 30 s figure is idle + (busy - idle) / 30, and cpu-ms/poll is the
// busy CPU per poll of all 10 entries (1,000 servers). It runs once, for
// about a minute.
//
//	go test -tags e2e -run '^$' -bench VMFaultEngine -benchtime 1x ./e2e/
func BenchmarkVMFaultEngine(b *testing.B) {
	const (
		projects = 10
		perProj  = 100
		warmup   = 3 * time.Second
		measure  = 10 * time.Second
	)
	nova := fakenova.New()
	b.Cleanup(nova.Close)
	for p := range projects {
		id := fmt.Sprintf("%032x", p+1)
		nova.Projects[fmt.Sprintf("tenant-%d", p)] = id
		for i := range perProj {
			nova.Put(fakenova.Server{ID: fmt.Sprintf("%08x-0000-4000-8000-%012x", p, i), Name: fmt.Sprintf("vm-%d-%d", p, i),
				Project: id, Status: "ACTIVE", VMState: "active", PowerState: 1})
		}
	}
	var watch strings.Builder
	for p := range projects {
		fmt.Fprintf(&watch, "        - {tenant: tenant-%d, all: true}\n", p)
	}
	type phase struct {
		cpu        float64 // % of one core
		rss, hwm   int64
		anon, file int64
		lists      int
		perPollMS  float64
	}
	vmfault := func(interval string) string {
		return fmt.Sprintf(`
  - name: nova
    type: vmfault
    with:
      provider: openstack
      auth: {url: "%s", username: sluice, user_domain: Default, password: "${OS_PASSWORD}", project: ops, project_domain: Default}
      interval: %s
      watch:
%s`, nova.URL, interval, watch.String())
	}
	release := releaseBinary(b)
	run := func(bin, source string) phase {
		dir := b.TempDir()
		admin := freeAddr(b)
		cfg := writeFile(b, dir, "sluice.yaml", fmt.Sprintf(`
journal: {dir: %[1]s/journal}
admin: {listen: %[2]s}
log: {level: warn}
sources:%[3]s
sinks:
  - name: out
    type: file
    with: {path: %[1]s/out.jsonl}
routes:
  - name: faults
    from: [nova]
    to: [out]
`, dir, admin, source))
		e := startProcess(b, bin, []string{"run", "-c", cfg}, "OS_PASSWORD=s3cret")
		e.waitReady(admin, 60*time.Second)
		pid := e.cmd.Process.Pid
		time.Sleep(warmup)
		lists0, cpu0, t0 := nova.Count(fakenova.RouteList), procCPU(b, pid), time.Now()
		time.Sleep(measure)
		cpu1, wall, lists1 := procCPU(b, pid), time.Since(t0), nova.Count(fakenova.RouteList)
		ph := phase{
			cpu: (cpu1 - cpu0).Seconds() / wall.Seconds() * 100,
			rss: procKB(b, pid, "VmRSS"), hwm: procKB(b, pid, "VmHWM"), lists: lists1 - lists0,
			anon: procKB(b, pid, "RssAnon"), file: procKB(b, pid, "RssFile"),
		}
		if polls := float64(ph.lists) / projects; polls > 0 {
			ph.perPollMS = (cpu1 - cpu0).Seconds() * 1000 / polls
		}
		require.NoError(b, e.stop(30*time.Second))
		if strings.Contains(source, "vmfault") {
			out, _ := os.ReadFile(dir + "/out.jsonl")
			require.Empty(b, out, "every server is ACTIVE")
		}
		return ph
	}
	heartbeat := `
  - name: nova
    type: heartbeat
    with: {interval: 1h}`
	b.ResetTimer()
	busy := run(release, vmfault("1s"))
	idle := run(release, vmfault("1h"))
	base := run(release, heartbeat)
	linked := run(sluiceBin, heartbeat)
	b.StopTimer()
	b.ReportMetric(busy.cpu, "%cpu@1s")
	b.ReportMetric(idle.cpu, "%cpu-idle")
	b.ReportMetric(idle.cpu+(busy.cpu-idle.cpu)/30, "%cpu@30s")
	b.ReportMetric(busy.perPollMS, "cpu-ms/poll")
	b.ReportMetric(float64(busy.lists*perProj)/measure.Seconds(), "servers/s")
	b.ReportMetric(float64(busy.rss)/(1<<20), "rss-MB")
	b.ReportMetric(float64(busy.hwm)/(1<<20), "hwm-MB")
	b.ReportMetric(float64(busy.anon)/(1<<20), "anon-MB")
	b.ReportMetric(float64(busy.file)/(1<<20), "file-MB")
	b.ReportMetric(float64(idle.rss)/(1<<20), "rss-idle-MB")
	b.ReportMetric(float64(idle.anon)/(1<<20), "anon-idle-MB")
	b.ReportMetric(float64(base.rss)/(1<<20), "rss-base-MB")
	b.ReportMetric(float64(base.anon)/(1<<20), "anon-base-MB")
	b.ReportMetric(float64(base.file)/(1<<20), "file-base-MB")
	b.ReportMetric(float64(linked.rss)/(1<<20), "rss-linked-MB")
	b.ReportMetric(float64(linked.file)/(1<<20), "file-linked-MB")
	b.ReportMetric(fileMB(b, release), "bin-MB")
	b.ReportMetric(fileMB(b, sluiceBin), "bin-linked-MB")
}

// releaseBinary builds the sluice binary as Taskfile.yml's build task and
// packaging/build-deb do (static, -trimpath, -s -w, -tags grpcnotrace),
// then installs it by copying it to a new file, as a package install
// writes it, and returns the copy's path.
func releaseBinary(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-tags", "grpcnotrace", "-ldflags", "-s -w",
		"-o", filepath.Join(dir, "linked"), "github.com/sluice-dev/sluice/cmd/sluice")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(b, err, "release build: %s", out)
	src, err := os.Open(filepath.Join(dir, "linked"))
	require.NoError(b, err)
	defer func() { _ = src.Close() }()
	installed := filepath.Join(dir, "sluice")
	dst, err := os.OpenFile(installed, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	require.NoError(b, err)
	_, err = io.Copy(dst, src)
	require.NoError(b, err)
	require.NoError(b, dst.Close())
	return installed
}

// fileMB returns the size of the file at path in MiB.
func fileMB(b *testing.B, path string) float64 {
	b.Helper()
	st, err := os.Stat(path)
	require.NoError(b, err)
	return float64(st.Size()) / (1 << 20)
}
