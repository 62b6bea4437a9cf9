package lbworkersource

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Gearman packet types used by a worker (gearmand PROTOCOL).
const (
	pktCanDo         uint32 = 1
	pktPreSleep      uint32 = 4
	pktNoop          uint32 = 6
	pktNoJob         uint32 = 10
	pktJobAssign     uint32 = 11
	pktWorkComplete  uint32 = 13
	pktError         uint32 = 19
	pktSetClientID   uint32 = 22
	pktGrabJobUniq   uint32 = 30
	pktJobAssignUniq uint32 = 31
)

var (
	magicReq = [4]byte{0, 'R', 'E', 'Q'}
	magicRes = [4]byte{0, 'R', 'E', 'S'}
)

// errProtocol is returned for a packet a worker cannot make sense of; the
// connection is dropped and made again.
var errProtocol = errors.New("gearman protocol error")

// headLimit is how much of an oversized packet is kept: enough for the job
// handle, function and unique id that precede the job data.
const headLimit = 1024

// packet is one binary packet from the server.
type packet struct {
	typ  uint32
	data []byte
	// size is the data length announced; larger than len(data) when the
	// packet was over the limit and only its head was kept.
	size int
}

// writePacket writes a request packet with args joined by NUL, the last
// one unterminated, and flushes w.
func writePacket(w *bufio.Writer, typ uint32, args ...[]byte) error {
	if err := putPacket(w, typ, args...); err != nil {
		return err
	}
	return w.Flush()
}

// putPacket is writePacket without the flush, so that several packets
// leave in one write.
func putPacket(w *bufio.Writer, typ uint32, args ...[]byte) error {
	size := 0
	for i, a := range args {
		size += len(a)
		if i > 0 {
			size++
		}
	}
	var head [12]byte
	copy(head[:4], magicReq[:])
	binary.BigEndian.PutUint32(head[4:8], typ)
	binary.BigEndian.PutUint32(head[8:12], uint32(size)) //nolint:gosec // sizes are bounded by max_job_bytes
	if _, err := w.Write(head[:]); err != nil {
		return err
	}
	for i, a := range args {
		if i > 0 {
			if err := w.WriteByte(0); err != nil {
				return err
			}
		}
		if _, err := w.Write(a); err != nil {
			return err
		}
	}
	return nil
}

// readPacket reads one response packet. Data over limit bytes is read and
// discarded, keeping the first headLimit bytes, so the connection stays in
// step and the job can still be answered.
func readPacket(r *bufio.Reader, limit int) (packet, error) {
	var head [12]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return packet{}, err
	}
	if !bytes.Equal(head[:4], magicRes[:]) {
		return packet{}, fmt.Errorf("%w: bad magic %x", errProtocol, head[:4])
	}
	p := packet{typ: binary.BigEndian.Uint32(head[4:8]), size: int(binary.BigEndian.Uint32(head[8:12]))}
	keep := p.size
	if keep > limit {
		keep = min(p.size, headLimit)
	}
	p.data = make([]byte, keep)
	if _, err := io.ReadFull(r, p.data); err != nil {
		return packet{}, err
	}
	if rest := int64(p.size - keep); rest > 0 {
		if _, err := io.CopyN(io.Discard, r, rest); err != nil {
			return packet{}, err
		}
	}
	return p, nil
}

// job is an assigned job.
type job struct {
	handle, function, unique []byte
	data                     []byte
	// oversize is the announced size of a job whose data was discarded.
	oversize int
}

// parseJobAssign splits JOB_ASSIGN_UNIQ (handle, function, unique, data)
// or JOB_ASSIGN (handle, function, data).
func parseJobAssign(p packet) (job, error) {
	n := 4
	if p.typ == pktJobAssign {
		n = 3
	}
	parts := bytes.SplitN(p.data, []byte{0}, n)
	if len(parts) < n {
		if p.size > len(p.data) && len(parts) == n-1 {
			parts = append(parts, nil) // the data was cut off
		} else {
			return job{}, fmt.Errorf("%w: job assignment with %d fields, want %d", errProtocol, len(parts), n)
		}
	}
	j := job{handle: parts[0], function: parts[1]}
	if n == 4 {
		j.unique = parts[2]
	}
	j.data = parts[n-1]
	if p.size > len(p.data) {
		j.oversize = p.size
		j.data = nil
	}
	if len(j.handle) == 0 {
		return job{}, fmt.Errorf("%w: job assignment without a handle", errProtocol)
	}
	return j, nil
}
