package probesource

// cappedBuffer keeps the first max bytes written to it and counts the
// rest, so a child that prints megabytes costs no memory: Write never
// fails and never blocks, which keeps the child from blocking on a full
// pipe.
type cappedBuffer struct {
	buf   []byte
	max   int
	total int64
}

func newCappedBuffer(limit int) *cappedBuffer { return &cappedBuffer{max: limit} }

// Write implements io.Writer.
func (b *cappedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	b.total += int64(n)
	if room := b.max - len(b.buf); room > 0 {
		if len(p) > room {
			p = p[:room]
		}
		b.buf = append(b.buf, p...)
	}
	return n, nil
}

// String returns what was kept.
func (b *cappedBuffer) String() string { return string(b.buf) }

// Truncated reports whether more was written than kept.
func (b *cappedBuffer) Truncated() bool { return b.total > int64(len(b.buf)) }
