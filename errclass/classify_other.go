//go:build !windows

package errclass

import "syscall"

// transientErrnos are the system errors a retry can get past: an
// interrupted or failed I/O, a busy resource, a momentary shortage.
var transientErrnos = [...]syscall.Errno{
	syscall.EIO, syscall.EINTR, syscall.EAGAIN, syscall.EWOULDBLOCK,
	syscall.ENOMEM, syscall.ETIMEDOUT, syscall.EBUSY,
}

// incompatibleErrnos are the system errors that say the filesystem or the
// kernel lacks what SQLite's locking needs; they come back every time.
var incompatibleErrnos = [...]syscall.Errno{
	syscall.ENOLCK, syscall.ENOSYS, syscall.EOPNOTSUPP, syscall.ENOTSUP,
}
