package probesource

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/pipeline"
)

// coalesce is how early a due check may start, so that probes due within
// the same millisecond share one timer wake-up.
const coalesce = 5 * time.Millisecond

// workerIdle is how long an idle worker waits for another check before it
// exits.
const workerIdle = 30 * time.Second

// scheduler runs the probes of a source: one timer for all of them, and
// an elastic pool of workers that run the checks. A due probe goes to an
// idle worker, or to a new one if none is idle, so a target that hangs
// holds only its own worker (for at most its timeout) and never delays
// another probe. Workers outlive their checks, so their stacks, grown by
// an HTTP round trip, are reused instead of grown again for every check;
// a worker reschedules its probe itself, which wakes the scheduler only
// when the probe is due before every other.
type scheduler struct {
	src  *source
	host pipeline.SourceHost

	mu sync.Mutex
	q  probeQueue

	// wake tells the scheduler that the head of q changed.
	wake chan struct{}
	// work hands a probe to an idle worker; it is unbuffered, so a send
	// succeeds only if a worker is waiting.
	work chan *probe
	wg   sync.WaitGroup
}

func newScheduler(src *source, host pipeline.SourceHost) *scheduler {
	return &scheduler{src: src, host: host, wake: make(chan struct{}, 1), work: make(chan *probe)}
}

// run schedules until ctx ends, then waits for the checks in flight.
func (sc *scheduler) run(ctx context.Context) {
	clock := sc.src.set.Clock
	now := clock.Now()
	sc.q = make(probeQueue, 0, len(sc.src.probes))
	for _, p := range sc.src.probes {
		p.next = now.Add(p.spec.initialDelay)
		if p.spec.jitter > 0 {
			p.next = p.next.Add(rand.N(p.spec.jitter))
		}
		sc.q = append(sc.q, p)
	}
	heap.Init(&sc.q)
	defer sc.wg.Wait()

	timer := clock.NewTimer(time.Hour)
	defer timer.Stop()
	var due []*probe
	for {
		now := clock.Now()
		wait := time.Hour
		sc.mu.Lock()
		for len(sc.q) > 0 && !sc.q[0].next.After(now.Add(coalesce)) {
			due = append(due, heap.Pop(&sc.q).(*probe))
		}
		if len(sc.q) > 0 {
			wait = sc.q[0].next.Sub(now)
		}
		sc.mu.Unlock()
		for i, p := range due {
			sc.dispatch(ctx, p)
			due[i] = nil
		}
		due = due[:0]
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C():
		case <-sc.wake:
		}
	}
}

// dispatch hands p to an idle worker, or starts one.
func (sc *scheduler) dispatch(ctx context.Context, p *probe) {
	select {
	case sc.work <- p:
	default:
		sc.wg.Go(func() { sc.worker(ctx, p) })
	}
}

// worker runs p's check, reschedules p, and waits for another probe.
func (sc *scheduler) worker(ctx context.Context, p *probe) {
	idle := sc.src.set.Clock.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		sc.src.runCheck(ctx, sc.host, p)
		if ctx.Err() != nil {
			return
		}
		sc.reschedule(p)
		idle.Reset(workerIdle)
		select {
		case p = <-sc.work:
		case <-idle.C():
			return
		case <-ctx.Done():
			return
		}
	}
}

// reschedule puts p back on its grid, waking the scheduler if p is now
// the first due.
func (sc *scheduler) reschedule(p *probe) {
	sc.mu.Lock()
	p.advance(sc.src.set.Clock.Now())
	heap.Push(&sc.q, p)
	first := sc.q[0] == p
	sc.mu.Unlock()
	if first {
		select {
		case sc.wake <- struct{}{}:
		default:
		}
	}
}

// probeQueue is a min-heap of probes by next check time.
type probeQueue []*probe

func (q probeQueue) Len() int           { return len(q) }
func (q probeQueue) Less(i, j int) bool { return q[i].next.Before(q[j].next) }
func (q probeQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *probeQueue) Push(x any)        { *q = append(*q, x.(*probe)) }
func (q *probeQueue) Pop() any {
	old := *q
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return p
}
