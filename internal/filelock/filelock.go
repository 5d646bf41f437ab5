// Package filelock is walguard's one lock primitive: shared and exclusive
// locks on single bytes of an open file, private to that open file, on
// every platform walguard supports — open file description locks
// (F_OFD_SETLK) on Linux and macOS, LockFileEx on Windows. Every lock byte
// of the sidecar is taken through it, whatever locking protocol the
// database itself uses, so that participants built with different SQLite
// locking protocols still see each other.
//
// Locks belong to the open file, not the process: two opens of one file in
// one process exclude each other, and closing the file (or the death of
// the process) releases every lock it holds. There is no blocking call:
// callers that wait decide how long themselves.
package filelock

import (
	"errors"
	"os"
)

// ErrHeld reports that another open file description holds a
// conflicting lock. It is not a failure of the lock call itself.
var ErrHeld = errors.New("lock held by another participant")

// ErrUnsupported is returned where there is no byte-range lock primitive
// that is private to an open file (open file description locks on Linux
// and macOS, LockFileEx on Windows).
var ErrUnsupported = errors.New("byte-range open file description locks are not supported on this platform")

// Supported reports whether this platform has the primitive; where it is
// false every function returns ErrUnsupported.
const Supported = supported

// TryLock takes a shared or exclusive lock on the byte at off without
// waiting. It returns ErrHeld when another open file (in this process or
// another) holds a conflicting lock, and any other error as a failure of
// the call, wrapped in an *os.PathError. Taking a lock this open file
// already holds converts it (shared to exclusive or back) where the
// platform allows.
func TryLock(f *os.File, off int64, exclusive bool) error { return tryLock(f, off, exclusive) }

// Unlock releases whatever this open file holds on the byte at off.
// Releasing a byte that is not held is not an error.
func Unlock(f *os.File, off int64) error { return unlock(f, off) }

// Test reports whether another open file holds a lock that would conflict
// with an exclusive lock on the byte at off. It takes no lock where the
// platform allows; on Windows it takes and drops one, so the answer is
// only advisory there while another process is joining.
func Test(f *os.File, off int64) (bool, error) { return testLock(f, off) }

// TestRange reports whether another open file holds a lock that would
// conflict with an exclusive lock on any byte of [off, off+n), and, if so,
// the range [start, start+length) of one such lock, clipped to [off,
// off+n); which one, when several do, is unspecified. With F_OFD_GETLK it
// is one system call whatever n is; on Windows it tests byte by byte
// (taking and dropping each, as Test does) and reports the first held.
func TestRange(f *os.File, off, n int64) (held bool, start, length int64, err error) {
	return testRange(f, off, n)
}
