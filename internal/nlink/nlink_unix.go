//go:build unix

package nlink

import (
	"os"
	"syscall"
)

func count(path string) (uint64, bool, error) {
	_, n, known, _, err := stat(path)
	return n, known, err
}

func stat(path string) (ID, uint64, bool, bool, error) {
	var st syscall.Stat_t
	if err := ignoringEINTR(func() error { return syscall.Stat(path, &st) }); err != nil {
		return ID{}, 0, false, false, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return idOf(&st), uint64(st.Nlink), true, true, nil
}

func fstat(fd uintptr) (ID, uint64, bool, bool, error) {
	var st syscall.Stat_t
	if err := ignoringEINTR(func() error { return syscall.Fstat(int(fd), &st) }); err != nil {
		return ID{}, 0, false, false, os.NewSyscallError("fstat", err)
	}
	return idOf(&st), uint64(st.Nlink), true, true, nil
}

func lstat(path string) (ID, bool, error) {
	var st syscall.Stat_t
	if err := ignoringEINTR(func() error { return syscall.Lstat(path, &st) }); err != nil {
		return ID{}, false, &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	return idOf(&st), true, nil
}

func of(fi os.FileInfo) (ID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ID{}, false
	}
	return idOf(st), true
}

// idOf is the ID stat(2) gives (Dev's type differs between systems).
func idOf(st *syscall.Stat_t) ID { return ID{uint64(st.Dev), uint64(st.Ino)} }

// ignoringEINTR runs fn again while it is interrupted by a signal (the Go
// runtime's preemption signals reach slow filesystems' system calls), as
// package os does.
func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != syscall.EINTR {
			return err
		}
	}
}
