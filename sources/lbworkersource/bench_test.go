package lbworkersource_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluice-dev/sluice/journal/journaltest"
	"github.com/sluice-dev/sluice/pipeline"
	"github.com/sluice-dev/sluice/sources/lbworkersource"
)

// journalHost is a SourceHost over a real journal, as the runner gives one:
// every Emit is a durable (fsync'd, group-committed) append.
type journalHost struct {
	j    pipeline.Journal
	name string
}

func (h journalHost) Emit(ctx context.Context, events []pipeline.Event, state ...pipeline.StateUpdate) (pipeline.AppendResult, error) {
	for i := range events {
		events[i].Origin = h.name
		events[i].Source = "/sluice/sources/" + h.name
	}
	for i := range state {
		state[i].Source = h.name
	}
	return h.j.Append(ctx, pipeline.AppendBatch{Events: events, State: state})
}

func (h journalHost) State(ctx context.Context) (map[string][]byte, error) {
	return h.j.SourceState(ctx, h.name)
}

const benchUpdate = `{"hpcs_action":"UPDATE","loadBalancers":[{"protocol":"HTTP","port":80,"nodes":[{"id":"1","address":"10.0.0.1","port":"8080"},{"id":"2","address":"10.0.0.2","port":"8080"}]}]}`

// runBench runs src over a real journal until the benchmark ends.
func runBench(b *testing.B, cfg *lbworkersource.Config) *lbworkersource.Source {
	b.Helper()
	host := journalHost{j: journaltest.MustOpen(b), name: "lb"}
	src, err := lbworkersource.NewFactory().NewSource(b.Context(), pipeline.NopSettings("lb"), cfg)
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, host) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
	return src.(*lbworkersource.Source)
}

// benchClients are the concurrencies of the HTTP benchmarks and their
// baselines: the journal's group commit can put at most this many
// appends in one transaction.
var benchClients = []int{64, 256}

// httpCases are the HTTP benchmarks' shapes: concurrent keep-alive
// clients, with net/http's client or rawHTTP (a minimal one, so that the
// process's CPU is mostly the server's: a Libra API server is another
// process).
var httpCases = []struct {
	clients int
	raw     bool
}{{64, false}, {256, false}, {64, true}, {256, true}}

func httpCaseName(clients int, raw bool) string {
	if raw {
		return fmt.Sprintf("clients=%d,client=raw", clients)
	}
	return fmt.Sprintf("clients=%d", clients)
}

// BenchmarkHTTPDurableAccepts: UPDATE requests from concurrent keep-alive
// clients, each answered PASS only after its durable append.
func BenchmarkHTTPDurableAccepts(b *testing.B) {
	for _, c := range httpCases {
		b.Run(httpCaseName(c.clients, c.raw), func(b *testing.B) {
			src := runBench(b, httpConfig())
			for src.Addr() == nil {
				runtimeGosched()
			}
			benchPost(b, c.clients, c.raw, src.Addr().String(), `"PASS"`)
		})
	}
}

// BenchmarkHTTPAppendFloor is the floor under BenchmarkHTTPDurableAccepts:
// the same clients and requests against a bare net/http handler that reads
// the body, appends an event of the same size durably and writes a fixed
// reply; no message contract, no source. The ratio of the two is what the
// lbworker adds.
func BenchmarkHTTPAppendFloor(b *testing.B) {
	for _, c := range httpCases {
		b.Run(httpCaseName(c.clients, c.raw), func(b *testing.B) {
			j := journaltest.MustOpen(b)
			data := bytes.Repeat([]byte("x"), 700)
			reply := []byte(benchUpdate[:len(benchUpdate)-1] + `,"hpcs_response":"PASS"}`)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(b, err)
			srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, err := io.ReadAll(r.Body); err != nil {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				ev := pipeline.Event{Type: "sluice.lb.request", Data: data}
				if _, err := j.Append(r.Context(), pipeline.AppendBatch{Events: []pipeline.Event{ev}}); err != nil {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(reply)
			})}
			go func() { _ = srv.Serve(ln) }()
			b.Cleanup(func() { _ = srv.Close() })
			benchPost(b, c.clients, c.raw, ln.Addr().String(), `"PASS"`)
		})
	}
}

// benchPost posts benchUpdate b.N times to addr from clients concurrent
// keep-alive clients in this process (net/http's or, with raw, rawHTTP)
// and reports accepts/s, latency and the process's CPU time per request
// (both sides of the loopback).
func benchPost(b *testing.B, clients int, raw bool, addr, want string) {
	posts := make([]func() (int, []byte, error), clients)
	for c := range posts {
		if raw {
			r, err := dialRawHTTP(addr, "/lbaas", "t0ken", benchUpdate)
			require.NoError(b, err)
			b.Cleanup(r.close)
			posts[c] = r.post
			continue
		}
		posts[c] = netHTTPPoster("http://"+addr+"/lbaas", clients)
	}
	var next atomic.Int64
	lat := newLatencies(clients)
	b.ReportAllocs()
	b.ResetTimer()
	m := startMeasure()
	var wg sync.WaitGroup
	for c, post := range posts {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				start := time.Now()
				status, body, err := post()
				if err != nil {
					b.Error(err)
					return
				}
				if status != http.StatusOK || !bytes.Contains(body, []byte(want)) {
					b.Errorf("status %d: %s", status, body)
					return
				}
				lat.add(c, time.Since(start))
			}
		})
	}
	wg.Wait()
	m.report(b)
	lat.report(b)
}

var (
	netHTTPOnce   sync.Mutex
	netHTTPClient = map[int]*http.Client{}
)

// netHTTPPoster posts benchUpdate with a net/http client shared by the
// benchmark's clients.
func netHTTPPoster(url string, clients int) func() (int, []byte, error) {
	netHTTPOnce.Lock()
	client, ok := netHTTPClient[clients]
	if !ok {
		client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
		netHTTPClient[clients] = client
	}
	netHTTPOnce.Unlock()
	return func() (int, []byte, error) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(benchUpdate))
		req.Header.Set("Authorization", "Bearer t0ken")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode, body, err
	}
}

// rawHTTP is a minimal HTTP/1.1 keep-alive client on one connection: it
// writes one prebuilt request and reads the status line, the headers and
// a Content-Length body, a fraction of net/http's client's CPU.
type rawHTTP struct {
	conn net.Conn
	r    *bufio.Reader
	req  []byte
	body []byte
}

func dialRawHTTP(addr, path, token, body string) (*rawHTTP, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		path, addr, token, len(body), body)
	return &rawHTTP{conn: conn, r: bufio.NewReader(conn), req: []byte(req)}, nil
}

func (c *rawHTTP) close() { _ = c.conn.Close() }

func (c *rawHTTP) post() (int, []byte, error) {
	if _, err := c.conn.Write(c.req); err != nil {
		return 0, nil, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	f := bytes.Fields(line)
	if len(f) < 2 {
		return 0, nil, fmt.Errorf("status line %q", line)
	}
	status, _ := strconv.Atoi(string(f[1]))
	size := -1
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		if name, value, ok := bytes.Cut(h, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			size, _ = strconv.Atoi(string(bytes.TrimSpace(value)))
		}
	}
	if size < 0 {
		return 0, nil, errors.New("reply without Content-Length")
	}
	c.body = slices.Grow(c.body[:0], size)[:size]
	if _, err := io.ReadFull(c.r, c.body); err != nil {
		return 0, nil, err
	}
	return status, c.body, nil
}

// measure is the wall and CPU time (user and system, RUSAGE_SELF) of a
// benchmark's timed part.
type measure struct {
	start time.Time
	cpu   time.Duration
}

func startMeasure() measure { return measure{start: time.Now(), cpu: processCPU()} }

// report adds accepts/s and cpu-µs/op (this process's CPU per request:
// on an idle machine with C cores the CPU bound is C/cpu per second).
func (m measure) report(b *testing.B) {
	wall, cpu := time.Since(m.start), processCPU()-m.cpu
	b.ReportMetric(float64(b.N)/wall.Seconds(), "accepts/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// gearmanCases are the Gearman benchmarks' shapes: worker connections,
// jobs per connection and concurrent clients. conns=16,jobs=1 is the
// old default (one job at a time per connection), conns=4,jobs=16 the
// new one.
var gearmanCases = []struct{ conns, jobs, clients int }{
	{16, 1, 64},
	{4, 16, 64},
	{4, 16, 256},
	{4, 64, 256},
}

// BenchmarkGearmanDurableAccepts: foreground jobs with unique ids from
// concurrent Gearman clients through a real gearmand to the source's
// worker connections, each answered only after its durable append (with
// its dedupe record): the jobs in flight are what the journal's group
// commit can batch.
func BenchmarkGearmanDurableAccepts(b *testing.B) {
	for _, c := range gearmanCases {
		b.Run(fmt.Sprintf("conns=%d,jobs=%d,clients=%d", c.conns, c.jobs, c.clients), func(b *testing.B) {
			g := startGearmand(b)
			cfg := gearmanConfig(g, "lb-bench")
			cfg.Gearman.Workers, cfg.Gearman.JobsPerConnection = c.conns, c.jobs
			runBench(b, cfg)
			g.waitWorkers(b, "lb-bench", c.conns)
			benchSubmit(b, g, c.clients, "lb-bench")
		})
	}
}

// BenchmarkGearmanAppendFloor is the floor under
// BenchmarkGearmanDurableAccepts: the same gearmand, clients and worker
// connections (the source's Gearman transport), each job appending an
// event of the same size durably and answered with a fixed reply; no
// message contract, no dedupe record.
func BenchmarkGearmanAppendFloor(b *testing.B) {
	for _, c := range gearmanCases {
		b.Run(fmt.Sprintf("conns=%d,jobs=%d,clients=%d", c.conns, c.jobs, c.clients), func(b *testing.B) {
			g := startGearmand(b)
			j := journaltest.MustOpen(b)
			data := bytes.Repeat([]byte("x"), 700)
			reply := []byte(benchUpdate[:len(benchUpdate)-1] + `,"hpcs_response":"PASS"}`)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- lbworkersource.ServeGearmanForTest(ctx, g.addr(), "lb-floor", c.conns, c.jobs, func(ctx context.Context, _ []byte) []byte {
					ev := pipeline.Event{Type: "sluice.lb.request", Data: data}
					if _, err := j.Append(ctx, pipeline.AppendBatch{Events: []pipeline.Event{ev}}); err != nil {
						return []byte(err.Error())
					}
					return reply
				})
			}()
			b.Cleanup(func() {
				cancel()
				if err := <-done; err != nil {
					b.Error(err)
				}
			})
			g.waitWorkers(b, "lb-floor", c.conns)
			benchSubmit(b, g, c.clients, "lb-floor")
		})
	}
}

// benchSubmit submits benchUpdate b.N times to function from clients
// concurrent Gearman client connections (each waits for its job's
// WORK_COMPLETE before the next) and reports accepts/s, latency and the
// CPU per job of this process and of gearmand.
func benchSubmit(b *testing.B, g *gearmand, clients int, function string) {
	// Connected before the clock starts, one at a time: gearmand's listen
	// backlog (32) drops the SYNs of a burst, which then wait a second.
	conns := make([]net.Conn, clients)
	for c := range conns {
		conn, err := net.Dial("tcp", g.addr())
		require.NoError(b, err)
		b.Cleanup(func() { _ = conn.Close() })
		conns[c] = conn
	}
	var next atomic.Int64
	lat := newLatencies(clients)
	b.ReportAllocs()
	b.ResetTimer()
	m, gcpu := startMeasure(), childCPU(b, g.cmd.Process.Pid)
	var wg sync.WaitGroup
	for c, conn := range conns {
		wg.Go(func() {
			r := bufio.NewReader(conn)
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				start := time.Now()
				reply, err := submitJob(conn, r, function, fmt.Sprintf("c%d-%d", c, n), benchUpdate)
				if err != nil || !bytes.Contains(reply, []byte(`"PASS"`)) {
					b.Errorf("job: %v %s", err, reply)
					return
				}
				lat.add(c, time.Since(start))
			}
		})
	}
	wg.Wait()
	m.report(b)
	lat.report(b)
	b.ReportMetric(float64((childCPU(b, g.cmd.Process.Pid)-gcpu).Microseconds())/float64(b.N), "gearmand-cpu-µs/op")
}

// latencies collects request latencies per client goroutine (no lock on
// the hot path) for the percentiles.
type latencies [][]time.Duration

func newLatencies(clients int) latencies { return make(latencies, clients) }

func (l latencies) add(client int, d time.Duration) { l[client] = append(l[client], d) }

// report adds p50-ms and p99-ms.
func (l latencies) report(b *testing.B) {
	all := slices.Concat(l...)
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	at := func(q float64) float64 {
		return float64(all[min(len(all)-1, int(q*float64(len(all))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// childCPU is the user and system time of process pid so far.
func childCPU(b *testing.B, pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(b, err)
	_, rest, _ := strings.Cut(string(stat), ") ") // after the command name
	f := strings.Fields(rest)
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

// submitJob is a minimal Gearman client: SUBMIT_JOB, then wait for
// JOB_CREATED and WORK_COMPLETE.
func submitJob(w io.Writer, r *bufio.Reader, fn, unique, data string) ([]byte, error) {
	body := fn + "\x00" + unique + "\x00" + data
	head := make([]byte, 12)
	copy(head, "\x00REQ")
	binary.BigEndian.PutUint32(head[4:], 7)
	binary.BigEndian.PutUint32(head[8:], uint32(len(body))) //nolint:gosec // small
	if _, err := w.Write(append(head, body...)); err != nil {
		return nil, err
	}
	for {
		if _, err := io.ReadFull(r, head); err != nil {
			return nil, err
		}
		p := make([]byte, binary.BigEndian.Uint32(head[8:]))
		if _, err := io.ReadFull(r, p); err != nil {
			return nil, err
		}
		switch binary.BigEndian.Uint32(head[4:]) {
		case 8: // JOB_CREATED
		case 13: // WORK_COMPLETE
			_, reply, _ := bytes.Cut(p, []byte{0})
			return reply, nil
		default:
			return nil, fmt.Errorf("packet type %d", binary.BigEndian.Uint32(head[4:]))
		}
	}
}

// BenchmarkJournalAppendBaseline is the reference for the benchmarks
// above: as many concurrent durable appends of an event of the same size,
// without a transport or the message contract.
func BenchmarkJournalAppendBaseline(b *testing.B) {
	for _, clients := range benchClients {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchAppend(b, clients) })
	}
}

func benchAppend(b *testing.B, clients int) {
	j := journaltest.MustOpen(b)
	data := bytes.Repeat([]byte("x"), 700)
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	m := startMeasure()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				ev := pipeline.Event{Type: "sluice.lb.request", Data: data}
				if _, err := j.Append(context.Background(), pipeline.AppendBatch{Events: []pipeline.Event{ev}}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	m.report(b)
}
