//go:build unix

package sidecar

import (
	"errors"
	"syscall"
)

const (
	oNoFollow = syscall.O_NOFOLLOW
	oNonBlock = syscall.O_NONBLOCK
)

// With O_NOFOLLOW, opening a symbolic link fails with ELOOP.
func isSymlinkLoop(err error) bool { return errors.Is(err, syscall.ELOOP) }
