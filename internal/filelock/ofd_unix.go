//go:build linux || darwin

package filelock

import (
	"os"

	"golang.org/x/sys/unix"
)

func tryLock(f *os.File, off int64, exclusive bool) error {
	typ := int16(unix.F_RDLCK)
	if exclusive {
		typ = unix.F_WRLCK
	}
	lk := unix.Flock_t{Type: typ, Whence: 0, Start: off, Len: 1}
	for {
		err := unix.FcntlFlock(f.Fd(), fOFDSetLk, &lk)
		switch err {
		case nil:
			return nil
		case unix.EINTR:
			continue
		case unix.EAGAIN, unix.EACCES:
			return ErrHeld
		}
		return &os.PathError{Op: "lock", Path: f.Name(), Err: err}
	}
}

func unlock(f *os.File, off int64) error {
	lk := unix.Flock_t{Type: unix.F_UNLCK, Whence: 0, Start: off, Len: 1}
	for {
		err := unix.FcntlFlock(f.Fd(), fOFDSetLk, &lk)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "Unlock", Path: f.Name(), Err: err}
		}
		return nil
	}
}

func testLock(f *os.File, off int64) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: off, Len: 1}
	for {
		err := unix.FcntlFlock(f.Fd(), fOFDGetLk, &lk)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, &os.PathError{Op: "testlock", Path: f.Name(), Err: err}
		}
		return lk.Type != unix.F_UNLCK, nil
	}
}

const supported = true

func testRange(f *os.File, off, n int64) (bool, int64, int64, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: off, Len: n}
	for {
		err := unix.FcntlFlock(f.Fd(), fOFDGetLk, &lk)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, 0, 0, &os.PathError{Op: "testlock", Path: f.Name(), Err: err}
		}
		if lk.Type == unix.F_UNLCK {
			return false, 0, 0, nil
		}
		start, end := max(lk.Start, off), off+n
		if lk.Len != 0 { // zero: to the end of the file
			end = min(end, lk.Start+lk.Len)
		}
		return true, start, end - start, nil
	}
}
