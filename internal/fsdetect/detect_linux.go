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
	// f_type is signed on some architectures; the magics are 32-bit.
	return infoForMagic(uint32(st.Type)), nil
}
