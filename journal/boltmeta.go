package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's on-disk meta page (go.etcd.io/bbolt internal/common, file format
// version 2): a 16-byte page header, then magic, version, page size, flags
// (uint32 each), the root bucket (root page, sequence), the freelist page,
// the high-water page and the transaction id (uint64 each) and an FNV-64a
// checksum of the preceding 56 bytes, all in native byte order. Page 0 and
// page 1 hold one meta each; a commit of transaction t writes page t%2.
// The journal reads metas to judge a file it cannot open (recovery.go)
// and to undo a commit whose fsync failed (fault.go).
const (
	boltPageHeader  = 16
	boltMetaSize    = 64
	boltMagic       = 0xED0CDAED
	boltVersion     = 2
	boltMinPageSize = 1 << 10
	boltMaxPageSize = 16 << 20
	boltInitPages   = 4 // bbolt's first write to a new file: two metas, freelist, leaf
)

// boltMeta is the part of a meta page the journal uses.
type boltMeta struct {
	magicOK  bool   // the magic number and version are right
	valid    bool   // and the checksum matches
	pageSize int    // as the meta says (only meaningful when magicOK)
	txid     uint64 // only meaningful when valid
}

func parseBoltMeta(page []byte) boltMeta {
	if len(page) < boltPageHeader+boltMetaSize {
		return boltMeta{}
	}
	m := page[boltPageHeader : boltPageHeader+boltMetaSize]
	ne := binary.NativeEndian
	if ne.Uint32(m[0:]) != boltMagic || ne.Uint32(m[4:]) != boltVersion {
		return boltMeta{}
	}
	h := fnv.New64a()
	_, _ = h.Write(m[:56])
	return boltMeta{
		magicOK:  true,
		valid:    h.Sum64() == ne.Uint64(m[56:]),
		pageSize: int(ne.Uint32(m[8:])),
		txid:     ne.Uint64(m[48:]),
	}
}

// boltFile is what the two meta pages of a bbolt file say.
type boltFile struct {
	size     int64
	pageSize int         // 0 when no meta page carries the magic number
	metas    [2]boltMeta // page 0 and page 1 (read at pageSize)
}

// committed reports whether a meta with a valid checksum records a
// transaction after bbolt's initialisation (transactions 0 and 1), i.e.
// whether the file ever held a committed journal transaction.
func (f boltFile) committed() bool {
	for _, m := range f.metas {
		if m.valid && m.txid >= 2 {
			return true
		}
	}
	return false
}

// readBoltFile reads the meta pages of the bbolt file at path. The page
// size is taken from page 0 if it carries the magic number, else from the
// first page-1 candidate that does (as bbolt itself searches).
func readBoltFile(path string) (boltFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return boltFile{}, err
	}
	defer func() { _ = f.Close() }()
	fi, err := f.Stat()
	if err != nil {
		return boltFile{}, err
	}
	bf := boltFile{size: fi.Size()}
	buf := make([]byte, boltPageHeader+boltMetaSize)
	read := func(off int64) (boltMeta, error) {
		n, err := f.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return boltMeta{}, err
		}
		return parseBoltMeta(buf[:n]), nil
	}
	m0, err := read(0)
	if err != nil {
		return bf, err
	}
	if m0.magicOK && validPageSize(m0.pageSize) {
		bf.pageSize = m0.pageSize
	}
	bf.metas[0] = m0
	for ps := boltMinPageSize; bf.pageSize == 0 && ps <= boltMaxPageSize && int64(ps) < bf.size; ps <<= 1 {
		m, err := read(int64(ps))
		if err != nil {
			return bf, err
		}
		if m.magicOK && m.pageSize == ps {
			bf.pageSize = ps
		}
	}
	if bf.pageSize == 0 {
		return bf, nil
	}
	if bf.metas[1], err = read(int64(bf.pageSize)); err != nil {
		return bf, err
	}
	return bf, nil
}

func validPageSize(ps int) bool {
	return ps >= boltMinPageSize && ps <= boltMaxPageSize && ps&(ps-1) == 0
}

// undoBoltCommit makes bbolt forget transaction txid of the closed file at
// path, if the file shows it: when the meta of txid is valid and the other
// meta is the valid meta of txid-1, the newer meta page is zeroed and the
// file fsync'd (on a new file descriptor), so the next bolt.Open uses the
// previous meta, whose pages the failed transaction did not touch (bbolt
// never overwrites pages the previous transaction's tree uses). It reports
// whether it wrote to the file (also when it then failed).
//
// With force, the checks are skipped and the page is zeroed and synced
// again: a previous call wrote it but its fsync failed, after which the
// page cache may show zeros that never reach the disk, so only a new
// write and a successful fsync make the undo durable.
func undoBoltCommit(path string, txid uint64, force bool) (bool, error) {
	if txid < 2 {
		return false, nil
	}
	bf, err := readBoltFile(path)
	if err != nil {
		return false, err
	}
	if bf.pageSize == 0 {
		return false, fmt.Errorf("undo commit %d: no readable meta page", txid)
	}
	if !force {
		cur, prev := bf.metas[txid%2], bf.metas[(txid-1)%2]
		if !cur.valid || cur.txid != txid {
			return false, nil // the meta of txid never reached the file
		}
		if !prev.valid || prev.txid != txid-1 {
			return false, fmt.Errorf("undo commit %d: the previous meta page holds transaction %d (valid %t)", txid, prev.txid, prev.valid)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, err
	}
	zero := make([]byte, boltPageHeader+boltMetaSize)
	_, err = f.WriteAt(zero, int64(txid%2)*int64(bf.pageSize))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return true, fmt.Errorf("undo commit %d: %w", txid, err)
	}
	return true, nil
}
