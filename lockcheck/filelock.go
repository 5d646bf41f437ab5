package lockcheck

import "errors"

// errLockHeld reports that another open file description holds a
// conflicting lock. It is not a failure of the lock call itself.
var errLockHeld = errors.New("lock held by another participant")

// ErrLocksUnsupported is returned where walguard has no byte-range lock
// primitive that is private to an open file (open file description locks
// on Linux and macOS, LockFileEx on Windows).
var ErrLocksUnsupported = errors.New("byte-range open file description locks are not supported on this platform")

// The lock primitives below have one contract on every platform:
//
//   - tryLock takes a shared or exclusive lock on one byte without waiting;
//     it returns errLockHeld when another open file (in this process or
//     another) holds a conflicting lock, and any other error as a failure.
//     Locks belong to the open file, not the process: two opens of the
//     sidecar in one process exclude each other, and closing the file (or
//     the death of the process) releases every lock it holds.
//   - unlock releases whatever this open file holds on that byte.
//   - testLock reports whether another open file holds a lock that would
//     conflict with an exclusive lock on that byte, without taking one
//     where the platform allows (on Windows it takes and drops it).
