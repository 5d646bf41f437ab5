package vfs

import (
	"runtime"

	"github.com/walguard/walguard/internal/filelock"
)

// SupportsSidecar is true where walguard can keep its sidecar: on Linux and
// macOS (open file description locks) and on Windows (LockFileEx). Like
// ncruces's [vfs.SupportsFileLocking], it is a constant: elsewhere (FreeBSD,
// OpenBSD, NetBSD, illumos, ...) every read-write open through walguard
// fails with one sentence saying so; use the os VFS there, and keep every
// process on one build.
//
// [vfs.SupportsFileLocking]: https://pkg.go.dev/github.com/ncruces/go-sqlite3/vfs#SupportsFileLocking
const SupportsSidecar = filelock.Supported

// unsupportedPlatform is the sentence a read-write open gets where
// SupportsSidecar is false.
func unsupportedPlatform() string {
	return "walguard needs open file description locks (Linux, macOS) or LockFileEx (Windows) for its sidecar, and " +
		runtime.GOOS + " has neither; open this database with the os VFS here"
}
