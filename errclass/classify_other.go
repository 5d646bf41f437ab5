//go:build !windows

package errclass

import "syscall"

// transientErrnos are the system errors a retry can get past: an
// interrupted or failed I/O, a busy resource, a momentary shortage (memory,
// or space and quota: a full disk is freed by people and log rotation).
var transientErrnos = [...]syscall.Errno{
	syscall.EIO, syscall.EINTR, syscall.EAGAIN, syscall.EWOULDBLOCK,
	syscall.ENOMEM, syscall.ETIMEDOUT, syscall.EBUSY,
	syscall.ENOSPC, syscall.EDQUOT,
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
}
