package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"
)

// segmentCacheFile caches what each sealed segment's meta and last record
// say (segmentInfo), so that Stats, age retention and time lookups do not
// open every sealed segment at every start. It is only a cache: written
// with rename but without fsync at rotation and at Close, each entry
// trusted only while the segment file's size and modification time are
// the ones recorded, and ignored as a whole when its checksum fails. Verify
// and Repair never use it.
const segmentCacheFile = "segments.cache"

// segmentCacheMagic starts the file; the version is its last byte.
var segmentCacheMagic = []byte("sluice-segcache\x01")

// segmentCacheEntry is the fixed-size record of one sealed segment.
const segmentCacheEntry = 8*6 + 32 + 32 // first, size, mtime, created, last, lastTime, prev, lastHash

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// fileStamp identifies a version of a segment file.
type fileStamp struct {
	size, mtime int64
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}, nil
}

// loadSegmentCache fills in the cached info of the sealed segments in segs
// whose files still match their entries. A missing or damaged cache is not
// an error: the segments are read on first use instead.
func (j *Journal) loadSegmentCache(segs []*segment) {
	b, err := os.ReadFile(filepath.Join(j.dir, segmentCacheFile))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			j.log.Warn("journal: cannot read the segment cache", "error", err)
		}
		return
	}
	n := len(b) - len(segmentCacheMagic) - 4
	if n < 0 || n%segmentCacheEntry != 0 || !bytes.HasPrefix(b, segmentCacheMagic) ||
		crc32.Checksum(b[:len(b)-4], crcTable) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		j.log.Warn("journal: ignoring a damaged segment cache")
		return
	}
	byFirst := make(map[uint64]*segment, len(segs))
	for _, s := range segs {
		byFirst[s.first] = s
	}
	be := binary.BigEndian
	for e := b[len(segmentCacheMagic) : len(b)-4]; len(e) > 0; e = e[segmentCacheEntry:] {
		s := byFirst[be.Uint64(e)]
		if s == nil {
			continue
		}
		want := fileStamp{size: int64(be.Uint64(e[8:])), mtime: int64(be.Uint64(e[16:]))}
		if got, err := stampOf(s.path); err != nil || got != want {
			continue
		}
		s.setInfo(segmentInfo{
			created:  nanos(int64(be.Uint64(e[24:]))),
			last:     be.Uint64(e[32:]),
			lastTime: int64(be.Uint64(e[40:])),
			prev:     [32]byte(e[48:80]),
			lastHash: [32]byte(e[80:112]),
		})
	}
}

// saveSegmentCache writes the known info of the sealed segments of the
// current head. Failures are logged: the cache is an optimisation.
func (j *Journal) saveSegmentCache() {
	if j.opts.ReadOnly {
		return
	}
	h := j.head.Load()
	sealed := h.segs[:len(h.segs)-1]
	b := make([]byte, 0, len(segmentCacheMagic)+len(sealed)*segmentCacheEntry+4)
	b = append(b, segmentCacheMagic...)
	be := binary.BigEndian
	for _, s := range sealed {
		info, ok := s.cachedInfo()
		if !ok {
			continue
		}
		st, err := stampOf(s.path)
		if err != nil {
			continue
		}
		b = be.AppendUint64(b, s.first)
		b = be.AppendUint64(b, uint64(st.size))
		b = be.AppendUint64(b, uint64(st.mtime))
		b = be.AppendUint64(b, uint64(info.created.UnixNano()))
		b = be.AppendUint64(b, info.last)
		b = be.AppendUint64(b, uint64(info.lastTime))
		b = append(b, info.prev[:]...)
		b = append(b, info.lastHash[:]...)
	}
	b = be.AppendUint32(b, crc32.Checksum(b, crcTable))
	if err := writeFileAtomic(filepath.Join(j.dir, segmentCacheFile), b); err != nil {
		j.log.Warn("journal: cannot write the segment cache", "error", err)
	}
}

// writeFileAtomic replaces path with b through a temporary file and a
// rename, without fsync.
func writeFileAtomic(path string, b []byte) error {
	tmp := fmt.Sprintf("%s.tmp-%d", path, time.Now().UnixNano())
	if err := os.WriteFile(tmp, b, fileMode); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// cachedInfo returns the segment's info if it is known without reading
// the file.
func (s *segment) cachedInfo() (segmentInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info, s.infoOK
}
