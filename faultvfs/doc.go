// Package faultvfs is a fault-injection VFS for github.com/ncruces/go-sqlite3:
// it wraps a base VFS and fails the calls that rules select, with the errors
// the os VFS would return, deterministically for a given seed.
//
//	import "github.com/walguard/walguard/faultvfs"
//
//	fv := faultvfs.New(vfs.Find("os"), 1) // seed 1
//	vfs.Register("faulty", fv)
//	defer vfs.Unregister("faulty")
//
//	// The next open of a WAL file fails, once.
//	fv.Add(faultvfs.Rule{Name: "wal-eio", Ops: faultvfs.OpOpen, Kinds: faultvfs.KindWAL, Count: 1})
//	db, err := sqlite3.Open("file:app.db?vfs=faulty")
//	...
//	err = db.Exec("INSERT INTO t VALUES(1)") // on a WAL database: SQLITE_CANTOPEN
//	fmt.Println(fv.Stats())
//
// Importing the package registers nothing. Register a VFS with vfs.Register
// to use it by name, or pass it as the base VFS of another wrapper (walguard's
// vfs.Options.Base), so that the wrapper sees the faults as if from the disk.
//
// # Rules
//
// A [Rule] selects calls by operation ([Op]), file kind ([Kind]) and name
// suffix, then fails them with Skip, Count, Probability and Window. The
// random draws come from one math/rand/v2 PCG generator seeded by New and
// guarded by a mutex: the same seed and the same sequence of calls give the
// same injections (concurrent connections make the sequence itself vary).
// Windows are measured with the clock set by [VFS.SetClock]. [VFS.Stats]
// counts what every rule matched and injected.
//
// # Default errors
//
// A rule without Err returns an [*InjectedError], whose text names the rule
// and says the fault was injected:
//
//	faultvfs: rule "wal-eio": injected EIO on open of /x/app.db-wal
//
// It unwraps to the error the os VFS gets from the system for EIO, and
// SQLite turns it into the extended code the os VFS would produce:
//
//	operation          error underneath                  SQLite reports
//	open               *os.PathError{Op: "open"}         SQLITE_CANTOPEN
//	read               *os.PathError{Op: "read"}         SQLITE_IOERR_READ
//	write              *os.PathError{Op: "write"}        SQLITE_IOERR_WRITE
//	sync               *os.PathError{Op: "sync"}         SQLITE_IOERR_FSYNC
//	truncate           *os.PathError{Op: "truncate"}     SQLITE_IOERR_TRUNCATE
//	lock               syscall.EIO                       SQLITE_IOERR_LOCK
//	unlock             syscall.EIO                       SQLITE_IOERR_UNLOCK
//	size               *os.PathError{Op: "stat"}         SQLITE_IOERR_FSTAT
//	access             syscall.EIO                       SQLITE_IOERR_ACCESS
//	delete             *os.PathError{Op: "remove"}       SQLITE_IOERR_DELETE
//	checkreservedlock  syscall.EIO                       SQLITE_IOERR_CHECKRESERVEDLOCK
//
// SQLite already picks those codes for an untagged error at each of these
// calls, so the errors are returned untagged, and a wrapper VFS above
// faultvfs can match them with errors.Is (syscall.EIO, [ErrInjected]) and
// errors.As. The exception is size, where SQLite's default is
// SQLITE_IOERR_SEEK: that one is a vfs.SystemError, which does not unwrap.
//
// What the application gets back is a SQLite error. For a failed open it is
// a *sqlite3.Error that unwraps to the *InjectedError; for the I/O codes
// the go-sqlite3 bindings keep only the last VFS call's Go error, which the
// rollback after a failure usually replaces, so match those by code
// (errors.Is(err, sqlite3.IOERR_WRITE)).
//
// Set Rule.Err to return something else; it is returned exactly as given,
// so sqlite3.BUSY from a lock makes SQLite retry through its busy handler.
//
// # File kinds
//
// A file opened through the VFS takes its kind from the open flags
// ([KindOfOpen]): main database, main journal, WAL, super-journal, and
// [KindTemp] for temp databases and journals, subjournals, transient
// databases and every nameless file. Access and Delete have only a name
// ([KindOfName]). [KindSidecar] is walguard's sidecar, which walguard reads
// and writes with package os; it calls [VFS.SidecarFault] (or the adapter
// [VFS.SidecarHook]) before each sidecar operation so that the same rules
// apply there.
//
// # What is not intercepted
//
// Wrapped files forward every optional capability of the base file (lock
// state, persist-WAL, powersafe overwrite, chunk size, size hint, has-moved,
// overwrite, sync-super, commit-phase-two, batch atomic write, checkpoint
// start/done, pragmas, busy handler, shared memory, memory mapping, and
// Unwrap for vfsutil.UnwrapFile), and fail none of them. In particular:
//
//   - The WAL-index (the -shm file) cannot be failed: vfs.SharedMemory has
//     unexported methods, so SharedMemory() is forwarded as is and xShmMap,
//     xShmLock, xShmBarrier and xShmUnmap go straight to the base.
//   - With PRAGMA mmap_size > 0, pages read through the memory mapping
//     bypass ReadAt and are not failed; reads of pages past the mapping are.
//   - Close and FullPathname are never failed.
package faultvfs
