package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressInterval is how often plain progress lines are written when the
// output is not a terminal.
const progressInterval = 5 * time.Second

// progress shows how far a long command got: a bar with rate and time
// left on a terminal, a plain line every few seconds otherwise.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	what  string
	total int64
	bar   *progressbar.ProgressBar
	start time.Time
	last  time.Time
	done  int64
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress starts a display of total units of what (such as
// "records"); total 0 means unknown.
func newProgress(w io.Writer, desc, what string, total int64) *progress {
	p := &progress{w: w, what: what, total: total, start: time.Now()}
	p.last = p.start
	if isTerminal(w) {
		size := total
		if size <= 0 {
			size = -1
		}
		p.bar = progressbar.NewOptions64(size,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString(what),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionFullWidth(),
		)
	}
	return p
}

// set records that done units are finished; extra is appended to plain
// lines.
func (p *progress) set(done int64, extra string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = done
	if p.bar != nil {
		_ = p.bar.Set64(done)
		return
	}
	if now := time.Now(); now.Sub(p.last) >= progressInterval {
		p.last = now
		fmt.Fprintln(p.w, p.line(now, extra))
	}
}

// add records n more finished units.
func (p *progress) add(n int64) {
	p.mu.Lock()
	done := p.done + n
	p.mu.Unlock()
	p.set(done, "")
}

// line renders a plain progress line.
func (p *progress) line(now time.Time, extra string) string {
	elapsed := now.Sub(p.start)
	rate := float64(p.done) / max(elapsed.Seconds(), 1e-9)
	s := fmt.Sprintf("%d %s", p.done, p.what)
	if p.total > 0 {
		s = fmt.Sprintf("%d/%d %s (%.1f%%)", p.done, p.total, p.what, 100*float64(p.done)/float64(p.total))
	}
	s += fmt.Sprintf(", %.0f/s", rate)
	if p.total > 0 && rate > 0 && p.done < p.total {
		left := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
		s += ", " + left.Round(time.Second).String() + " left"
	}
	if extra != "" {
		s += ", " + extra
	}
	return s
}

// finish ends the display.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// countingWriter counts the lines written through it for progress.
type countingWriter struct {
	w io.Writer
	p *progress
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	lines := 0
	for _, x := range b[:n] {
		if x == '\n' {
			lines++
		}
	}
	c.p.add(int64(lines))
	return n, err
}

// countingReader counts the bytes read through it for progress.
type countingReader struct {
	r io.Reader
	p *progress
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.add(int64(n))
	return n, err
}
