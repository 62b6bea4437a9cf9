//go:build peers

package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// peerClient posts requests for the peer job's load.
type peerClient struct{ http *http.Client }

// defaultPeerClient is shared by the job's clients (keep-alive connections).
var defaultPeerClient = &peerClient{http: &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64},
}}

// post sends body and returns the response status.
func (c *peerClient) post(url, contentType string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// peerIDs hands out event numbers unique within one benchmark run, from
// peerIDBase on so that every number has 10 digits (and every event the
// same size, peerEventBytes).
var peerIDs atomic.Int64

const peerIDBase = 1_000_000_000

// nextEvents returns n fresh events stamped with the send time.
func nextEvents(n int) []peerEvent {
	last := peerIDBase + peerIDs.Add(int64(n))
	events := make([]peerEvent, n)
	sent := time.Now().UnixNano()
	for i := range events {
		events[i] = peerEvent{n: last - int64(n) + 1 + int64(i), sent: sent}
	}
	return events
}

// ackLog collects the events the system acknowledged (answered 2xx for)
// and their send-to-ack latencies.
type ackLog struct {
	mu       sync.Mutex
	acked    []int64
	latency  []time.Duration
	refusals int // non-2xx answers and transport errors
}

func (l *ackLog) add(events []peerEvent, err error) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.refusals++
		return
	}
	for _, e := range events {
		l.acked = append(l.acked, e.n)
		l.latency = append(l.latency, now.Sub(time.Unix(0, e.sent)))
	}
}

// saturate posts batches of perRequest events from clients goroutines as
// fast as in acknowledges them, until total events are acknowledged or
// stop is closed. A refused request is retried after 10 ms (a client
// backing off), so every event is eventually acknowledged unless stopped.
func saturate(in *peerInstance, total, perRequest, clients int, stop <-chan struct{}) *ackLog {
	log := &ackLog{}
	var next atomic.Int64
	requests := int64((total + perRequest - 1) / perRequest)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for next.Add(1) <= requests {
				events := nextEvents(perRequest)
				for {
					select {
					case <-stop:
						return
					default:
					}
					err := in.post(defaultPeerClient, events)
					log.add(events, err)
					if err == nil {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	return log
}

// atRate posts single stamped events at rate per second from clients
// goroutines for d, and returns what was acknowledged.
func atRate(in *peerInstance, rate, clients int, d time.Duration) *ackLog {
	log := &ackLog{}
	total := int(float64(rate) * d.Seconds())
	interval := time.Second * time.Duration(clients) / time.Duration(rate)
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for i := w; i < total; i += clients {
				<-tick.C
				events := nextEvents(1)
				log.add(events, in.post(defaultPeerClient, events))
			}
		})
	}
	wg.Wait()
	return log
}

// sampleRSS records the largest resident size of pid every 50 ms until
// stop is closed, then sends it on the returned channel.
func sampleRSS(pid int, stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if rss, err := procRSS(pid); err == nil {
				peak = max(peak, rss)
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}
