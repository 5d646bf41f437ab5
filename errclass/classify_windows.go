package errclass

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// transientErrnos are the system errors a retry can get past. Besides the
// POSIX names Go defines on Windows, a byte range another process has
// locked (ERROR_LOCK_VIOLATION) or a file opened without sharing
// (ERROR_SHARING_VIOLATION, antivirus scanners and backup tools) clear up
// when the other process lets go.
var transientErrnos = [...]syscall.Errno{
	syscall.EIO, syscall.EINTR, syscall.EAGAIN, syscall.EWOULDBLOCK,
	syscall.ENOMEM, syscall.ETIMEDOUT, syscall.EBUSY,
	windows.ERROR_LOCK_VIOLATION, windows.ERROR_SHARING_VIOLATION,
}

// incompatibleErrnos are the system errors that say the filesystem or the
// kernel lacks what SQLite's locking needs; they come back every time.
var incompatibleErrnos = [...]syscall.Errno{
	syscall.ENOLCK, syscall.ENOSYS, syscall.EOPNOTSUPP, syscall.ENOTSUP,
}
