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
	syscall.ENOSPC, syscall.EDQUOT,
	windows.ERROR_LOCK_VIOLATION, windows.ERROR_SHARING_VIOLATION,
	windows.ERROR_DISK_FULL, windows.ERROR_HANDLE_DISK_FULL,
}

// incompatibleErrnos are the system errors that say the filesystem or the
// kernel lacks what SQLite's locking needs; they come back every time.
var incompatibleErrnos = [...]syscall.Errno{
	syscall.ENOLCK, syscall.ENOSYS, syscall.EOPNOTSUPP, syscall.ENOTSUP,
}

// permanentErrnos are the system errors about a path or a permission:
// waiting does not change them, so they are never retried.
var permanentErrnos = [...]syscall.Errno{
	syscall.ENOENT, syscall.ENOTDIR, syscall.EISDIR, syscall.ENAMETOOLONG, syscall.ELOOP,
	syscall.EACCES, syscall.EPERM, syscall.EROFS, syscall.ENXIO, syscall.ENODEV,
	windows.ERROR_FILE_NOT_FOUND, windows.ERROR_PATH_NOT_FOUND, windows.ERROR_ACCESS_DENIED,
	windows.ERROR_INVALID_NAME, windows.ERROR_FILENAME_EXCED_RANGE,
}
