//go:build linux || darwin

package fsdetect

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// statfs asks the kernel about the filesystem holding path, retrying EINTR.
func statfs(path string) (unix.Statfs_t, error) {
	var st unix.Statfs_t
	err := unix.Statfs(path, &st)
	for tries := 0; err == unix.EINTR && tries < 8; tries++ {
		err = unix.Statfs(path, &st)
	}
	if err != nil {
		return st, &fs.PathError{Op: "statfs", Path: path, Err: err}
	}
	return st, nil
}
