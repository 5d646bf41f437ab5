//go:build unix

package lockcheck

import "syscall"

// oNonBlock opens a FIFO without waiting for a writer.
const oNonBlock = syscall.O_NONBLOCK
