package lbworkersource

import (
	"bufio"
	"errors"
	"net"
	"sync"
)

// errStopped is returned for a reply written after the connection
// stopped taking jobs and failed.
var errStopped = errors.New("gearman connection closed")

// conn is a worker connection's flow control: up to limit jobs in flight,
// so that concurrent jobs share the journal's group commits (one job at a
// time per connection allows one append per commit per connection).
//
// gearmand assigns one job per GRAB_JOB_UNIQ. The connection keeps at most
// one grab outstanding and sends the next as soon as the answer arrives
// while fewer than limit jobs run: a JOB_ASSIGN_UNIQ starts the job and
// grabs again; NO_JOB sends PRE_SLEEP (the running jobs carry on), and the
// NOOP wake-up grabs again; a finished job's WORK_COMPLETE grabs again when
// the connection was full. At the rates of a Libra API server this is the
// usual grab, sleep, wake loop of one job at a time; under load a
// connection grabs a job per round trip to gearmand without waiting for
// the journal.
//
// Every method puts its packets in one buffer under one mutex, the reader
// goroutine's (grab, noJob, wake, assigned) and the jobs' (complete), and
// the writer goroutine (write) sends what accumulated in one write: the
// WORK_COMPLETEs of the jobs one commit made durable leave together.
type conn struct {
	nc    net.Conn
	limit int
	// kick tells the writer that packets wait (capacity 1).
	kick chan struct{}

	mu       sync.Mutex
	wr       *bufio.Writer
	queued   bool // kick sent, the writer has not flushed since
	running  int  // jobs assigned and not yet completed
	grabbing bool // a GRAB_JOB_UNIQ is unanswered
	asleep   bool // PRE_SLEEP sent, no NOOP since
	stopped  bool // the reader ended: no more grabs
	broken   error
}

// register sends SET_CLIENT_ID and CAN_DO.
func (c *conn) register(clientID, function string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := putPacket(c.wr, pktSetClientID, []byte(clientID)); err != nil {
		return err
	}
	if err := putPacket(c.wr, pktCanDo, []byte(function)); err != nil {
		return err
	}
	return c.wr.Flush()
}

// grab sends GRAB_JOB_UNIQ unless one is outstanding, the connection
// sleeps or is full or stopped.
func (c *conn) grab() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flush(c.grabLocked())
}

func (c *conn) grabLocked() error {
	if c.grabbing || c.asleep || c.stopped || c.running >= c.limit {
		return nil
	}
	c.grabbing = true
	return putPacket(c.wr, pktGrabJobUniq)
}

// noJob handles NO_JOB: the queue was empty, so sleep until woken.
func (c *conn) noJob() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.grabbing = false
	if c.asleep || c.stopped {
		return nil
	}
	c.asleep = true
	return c.flush(putPacket(c.wr, pktPreSleep))
}

// wake handles NOOP: jobs are waiting.
func (c *conn) wake() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asleep = false
	return c.flush(c.grabLocked())
}

// assigned counts a job just assigned and grabs the next.
func (c *conn) assigned() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.grabbing = false
	c.running++
	return c.flush(c.grabLocked())
}

// complete sends WORK_COMPLETE for handle and grabs again if the job made
// room. It reports a connection already broken; a write that fails later
// closes the connection, so that the reader ends too.
func (c *conn) complete(handle, reply []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running--
	if c.broken != nil {
		return c.broken
	}
	err := putPacket(c.wr, pktWorkComplete, handle, reply)
	if err == nil {
		err = c.grabLocked()
	}
	return c.flush(err)
}

// stop ends grabbing: the reader is done; jobs in flight still complete.
func (c *conn) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
}

// flush hands the packets put so far to the writer unless err, and
// breaks the connection on failure.
func (c *conn) flush(err error) error {
	if err == nil {
		if c.broken != nil {
			return c.broken
		}
		if !c.queued && c.wr.Buffered() > 0 {
			c.queued = true
			c.kick <- struct{}{}
		}
		return nil
	}
	c.fail(err)
	return err
}

// fail breaks the connection: closing it ends the reader too.
func (c *conn) fail(err error) {
	if c.broken == nil {
		c.broken = errors.Join(errStopped, err)
		_ = c.nc.Close()
	}
}

// write is the writer goroutine: it sends the buffered packets whenever
// kicked, and once more when done closes (after the last job completed).
func (c *conn) write(done <-chan struct{}) {
	for {
		select {
		case <-c.kick:
		case <-done:
			c.mu.Lock()
			c.send()
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		c.queued = false
		c.send()
		c.mu.Unlock()
	}
}

// send writes the buffer out; called with c.mu held.
func (c *conn) send() {
	if c.broken != nil {
		return
	}
	if err := c.wr.Flush(); err != nil {
		c.fail(err)
	}
}
