package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ErrUnsafe is wrapped by every refusal of OpenFile and CheckDir; the
// error text names the path and what to change.
var ErrUnsafe = errors.New("unsafe file or directory")

// OpenFile is os.OpenFile with O_NOFOLLOW and O_CLOEXEC added. It then
// checks the opened file with fstat: it must be a regular file owned by
// the effective user (or root) with exactly one link. On any refusal the
// file is closed, an error wrapping ErrUnsafe is returned, and nothing has
// been written: O_TRUNC is applied only after the checks pass, so a
// refused file keeps its content. A symbolic link's target is never
// opened.
func OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	trunc := flag&os.O_TRUNC != 0
	f, err := os.OpenFile(name, (flag&^os.O_TRUNC)|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, perm)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%w: %s is a symbolic link; Sluice does not follow links for files it writes: configure the real path or remove the link", ErrUnsafe, name)
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkFile(name, fi)
	}
	if err == nil && trunc {
		err = f.Truncate(0)
	}
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return f, nil
}

// checkFile checks an opened file's fstat result.
func checkFile(name string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file (%s): remove it or configure another path", ErrUnsafe, name, fi.Mode().Type())
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil // not a Unix file system: nothing more to check
	}
	if err := checkOwner(name, "file", st.Uid); err != nil {
		return err
	}
	if st.Nlink != 1 {
		return fmt.Errorf("%w: %s has %d hard links (another name may point at the same file): remove the other links or the file", ErrUnsafe, name, st.Nlink)
	}
	return nil
}

// CheckDir checks that dir (followed if it is a symbolic link: the
// operator chose it) is a directory owned by the effective user or root
// and not writable by group or others. what names the directory in errors
// ("journal directory", "file sink directory").
func CheckDir(what, dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s %s is not a directory", ErrUnsafe, what, dir)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if err := checkOwner(dir, what, st.Uid); err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%w: %s %s is writable by group or others (mode %04o), so another user could replace the files in it: run chmod go-w %s, or use a directory only this user can write",
			ErrUnsafe, what, dir, perm, dir)
	}
	return nil
}

// checkOwner accepts uid 0 and the effective uid.
func checkOwner(path, what string, uid uint32) error {
	euid := os.Geteuid()
	if uid == 0 || int(uid) == euid {
		return nil
	}
	return fmt.Errorf("%w: %s %s is owned by uid %d, not by this process (uid %d) or root: run chown %d %s, or use a path this user owns",
		ErrUnsafe, what, path, uid, euid, euid, path)
}
