package filelock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

func lockOverlapped(off int64) *windows.Overlapped {
	return &windows.Overlapped{Offset: uint32(off), OffsetHigh: uint32(off >> 32)}
}

func tryLock(f *os.File, off int64, exclusive bool) error {
	flags := uint32(windows.LOCKFILE_FAIL_IMMEDIATELY)
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, lockOverlapped(off))
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return ErrHeld
	}
	if err != nil {
		return &os.PathError{Op: "lock", Path: f.Name(), Err: err}
	}
	return nil
}

func unlock(f *os.File, off int64) error {
	err := windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, lockOverlapped(off))
	if err != nil && !errors.Is(err, windows.ERROR_NOT_LOCKED) {
		return &os.PathError{Op: "Unlock", Path: f.Name(), Err: err}
	}
	return nil
}

// Test has no side-effect-free form on Windows: take the lock and
// drop it at once. A byte we hold ourselves must not be tested this way.
func testLock(f *os.File, off int64) (bool, error) {
	switch err := TryLock(f, off, true); err {
	case nil:
		return false, Unlock(f, off)
	case ErrHeld:
		return true, nil
	default:
		return false, err
	}
}

const supported = true

func testRange(f *os.File, off, n int64) (bool, int64, int64, error) {
	for b := off; b < off+n; b++ {
		if held, err := testLock(f, b); err != nil || held {
			return held, b, 1, err
		}
	}
	return false, 0, 0, nil
}
