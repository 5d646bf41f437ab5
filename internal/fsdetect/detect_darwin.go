package fsdetect

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

func detect(path string) (Info, error) {
	var st unix.Statfs_t
	err := unix.Statfs(path, &st)
	for tries := 0; err == unix.EINTR && tries < 8; tries++ {
		err = unix.Statfs(path, &st)
	}
	if err != nil {
		return Info{}, &fs.PathError{Op: "statfs", Path: path, Err: err}
	}
	name := unix.ByteSliceToString(st.Fstypename[:])
	return infoForTypeName(name, st.Flags&unix.MNT_LOCAL != 0, int64(st.Type)), nil
}
