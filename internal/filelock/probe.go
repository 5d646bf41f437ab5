package filelock

import "os"

// ProbeFcntl reports whether another open file (in this process or
// another) holds an fcntl lock, POSIX or OFD, on any byte of [off, off+n)
// of f's file, and the pid the kernel reports for one holder: the owner's
// pid for a POSIX lock, -1 for an OFD lock. It takes no lock. It is how a
// joiner learns that processes without walguard hold SQLite's own lock
// bytes. Where there are no fcntl locks it returns ErrUnsupported.
func ProbeFcntl(f *os.File, off, n int64) (held bool, pid int, err error) {
	return probeFcntl(f, off, n)
}

// ProbeFlock reports whether another open file holds a flock(2) lock on
// f's file. flock has no test call: it takes LOCK_EX|LOCK_NB and gives it
// back at once, so a flock user that locks in that instant sees one
// EWOULDBLOCK (SQLITE_BUSY, which its busy handler retries). f must hold
// no flock lock itself. Where there is no flock it returns ErrUnsupported.
func ProbeFlock(f *os.File) (bool, error) { return probeFlock(f) }
