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
var progressInterval = 5 * time.Second

// progress shows how far a long command got: a bar with rate and time
// left on a terminal, a plain line every few seconds otherwise. The bar
// is drawn at the start when the total is known then, else at the first
// report, so a total given before it (with setTotal) is the bar's end
// from the start; it is never a count of an unknown total ("40/-") when
// the total could be known.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	desc     string
	what     string
	total    int64
	terminal bool
	bar      *progressbar.ProgressBar
	start    time.Time
	last     time.Time
	done     int64
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress prepares a display of total units of what (such as
// "records") on w; total 0 means not known yet.
func newProgress(w io.Writer, desc, what string, total int64) *progress {
	p := &progress{w: w, desc: desc, what: what, total: total, terminal: isTerminal(w), start: time.Now()}
	p.last = p.start
	if p.terminal && total > 0 {
		p.drawBar()
	}
	return p
}

// setTotal sets the number of units when it becomes known; the bar, if
// drawn already, is rescaled.
func (p *progress) setTotal(total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if total == p.total || total <= 0 {
		return
	}
	p.total = total
	if p.bar != nil {
		p.bar.ChangeMax64(total)
	}
}

// drawBar builds the terminal bar and draws it at once (empty): when the
// total is known at the start, else on the first report.
func (p *progress) drawBar() {
	size := p.total
	if size <= 0 {
		size = -1 // a spinner with a count
	}
	p.bar = progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(p.desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(p.what),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionFullWidth(),
		progressbar.OptionSetRenderBlankState(true),
	)
}

// set records that done units are finished; extra is appended to plain
// lines.
func (p *progress) set(done int64, extra string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = done
	if p.terminal {
		if p.bar == nil {
			p.drawBar()
		}
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
