package filelock

import "golang.org/x/sys/unix"

const (
	fOFDSetLk = unix.F_OFD_SETLK
	fOFDGetLk = unix.F_OFD_GETLK
)
