package filesink

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// repairChunk is how much of the file repairTail reads at a time while
// looking for the start of the last line.
const repairChunk = 64 << 10

type repair struct {
	// size is the file size after the repair.
	size int64
	// action is "" (nothing to do), "truncated" or "terminated".
	action string
	// bytes is the length of the last line that was repaired.
	bytes int64
}

// repairTail makes the file of the given size end with a newline. A last
// line without one is either a whole JSON value someone wrote without a
// newline, which is kept and terminated, or a line torn by a crash in the
// middle of a write, which belongs to an unacknowledged batch and is
// truncated (that batch is delivered again).
func repairTail(f *os.File, size int64) (repair, error) {
	if size == 0 {
		return repair{}, nil
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], size-1); err != nil {
		return repair{}, fmt.Errorf("read last byte: %w", err)
	}
	if last[0] == '\n' {
		return repair{size: size}, nil
	}
	start, err := lastLineStart(f, size)
	if err != nil {
		return repair{}, err
	}
	tail, err := io.ReadAll(io.NewSectionReader(f, start, size-start))
	if err != nil {
		return repair{}, fmt.Errorf("read last line: %w", err)
	}
	if json.Valid(tail) {
		if _, err := f.Write([]byte{'\n'}); err != nil {
			return repair{}, fmt.Errorf("terminate last line: %w", err)
		}
		return repair{size: size + 1, action: "terminated", bytes: size - start}, nil
	}
	if err := f.Truncate(start); err != nil {
		return repair{}, fmt.Errorf("truncate torn last line: %w", err)
	}
	return repair{size: start, action: "truncated", bytes: size - start}, nil
}

// lastLineStart returns the offset just after the last newline before
// size, or 0 if there is none.
func lastLineStart(f *os.File, size int64) (int64, error) {
	buf := make([]byte, repairChunk)
	end := size
	for end > 0 {
		n := min(int64(len(buf)), end)
		chunk := buf[:n]
		if _, err := f.ReadAt(chunk, end-n); err != nil {
			return 0, fmt.Errorf("find last line: %w", err)
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			return end - n + int64(i) + 1, nil
		}
		end -= n
	}
	return 0, nil
}
