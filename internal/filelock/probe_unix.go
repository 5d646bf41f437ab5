//go:build linux || darwin

package filelock

import (
	"os"

	"golang.org/x/sys/unix"
)

func probeFcntl(f *os.File, off, n int64) (bool, int, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: off, Len: n}
	for {
		err := unix.FcntlFlock(f.Fd(), fOFDGetLk, &lk)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, 0, &os.PathError{Op: "testlock", Path: f.Name(), Err: err}
		}
		return lk.Type != unix.F_UNLCK, int(lk.Pid), nil
	}
}

func probeFlock(f *os.File) (bool, error) {
	fd := int(f.Fd())
	for {
		switch err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err {
		case nil:
			for unix.Flock(fd, unix.LOCK_UN) == unix.EINTR {
			}
			return false, nil
		case unix.EINTR:
			continue
		case unix.EWOULDBLOCK:
			return true, nil
		default:
			return false, &os.PathError{Op: "flock", Path: f.Name(), Err: err}
		}
	}
}
