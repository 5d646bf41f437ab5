// Package forward holds File, the one forwarding wrapper of walguard's
// VFSes (package vfs and package faultvfs): it passes every optional
// capability of a wrapped github.com/ncruces/go-sqlite3/vfs file through,
// so that wrapping changes nothing SQLite can observe (invariant 6 of
// docs/design.md). A wrapper embeds File and overrides only the methods it
// gates.
//
// File implements every optional interface the ncruces vfs package
// discovers by type assertion, including the unexported one for
// SQLITE_FCNTL_PDB (SetDB); the one it cannot implement is the unexported
// fileControl, which ncruces reserves for its checksum VFS. The shared
// memory and memory-mapping interfaces have unexported methods, so their
// calls are forwarded as values and cannot be intercepted.
package forward

import (
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"
)

// File forwards every method of the vfs.File it embeds, and every optional
// capability of that file, to it.
type File struct{ vfs.File }

// Unwrap returns the base file, for vfsutil.UnwrapFile.
func (f File) Unwrap() vfs.File { return f.File }

// LockState forwards SQLITE_FCNTL_LOCKSTATE.
func (f File) LockState() vfs.LockLevel { return vfsutil.WrapLockState(f.File) }

// PersistWAL forwards SQLITE_FCNTL_PERSIST_WAL.
func (f File) PersistWAL() bool { return vfsutil.WrapPersistWAL(f.File) }

// SetPersistWAL forwards SQLITE_FCNTL_PERSIST_WAL.
func (f File) SetPersistWAL(keep bool) { vfsutil.WrapSetPersistWAL(f.File, keep) }

// PowersafeOverwrite forwards SQLITE_FCNTL_POWERSAFE_OVERWRITE.
func (f File) PowersafeOverwrite() bool { return vfsutil.WrapPowersafeOverwrite(f.File) }

// SetPowersafeOverwrite forwards SQLITE_FCNTL_POWERSAFE_OVERWRITE.
func (f File) SetPowersafeOverwrite(psow bool) { vfsutil.WrapSetPowersafeOverwrite(f.File, psow) }

// ChunkSize forwards SQLITE_FCNTL_CHUNK_SIZE.
func (f File) ChunkSize(size int) { vfsutil.WrapChunkSize(f.File, size) }

// SizeHint forwards SQLITE_FCNTL_SIZE_HINT.
func (f File) SizeHint(size int64) error { return vfsutil.WrapSizeHint(f.File, size) }

// HasMoved forwards SQLITE_FCNTL_HAS_MOVED.
func (f File) HasMoved() (bool, error) { return vfsutil.WrapHasMoved(f.File) }

// Overwrite forwards SQLITE_FCNTL_OVERWRITE.
func (f File) Overwrite() error { return vfsutil.WrapOverwrite(f.File) }

// SyncSuper forwards SQLITE_FCNTL_SYNC.
func (f File) SyncSuper(super string) error { return vfsutil.WrapSyncSuper(f.File, super) }

// CommitPhaseTwo forwards SQLITE_FCNTL_COMMIT_PHASETWO.
func (f File) CommitPhaseTwo() error { return vfsutil.WrapCommitPhaseTwo(f.File) }

// BeginAtomicWrite forwards SQLITE_FCNTL_BEGIN_ATOMIC_WRITE.
func (f File) BeginAtomicWrite() error { return vfsutil.WrapBeginAtomicWrite(f.File) }

// CommitAtomicWrite forwards SQLITE_FCNTL_COMMIT_ATOMIC_WRITE.
func (f File) CommitAtomicWrite() error { return vfsutil.WrapCommitAtomicWrite(f.File) }

// RollbackAtomicWrite forwards SQLITE_FCNTL_ROLLBACK_ATOMIC_WRITE.
func (f File) RollbackAtomicWrite() error { return vfsutil.WrapRollbackAtomicWrite(f.File) }

// CheckpointStart forwards SQLITE_FCNTL_CKPT_START.
func (f File) CheckpointStart() { vfsutil.WrapCheckpointStart(f.File) }

// CheckpointDone forwards SQLITE_FCNTL_CKPT_DONE.
func (f File) CheckpointDone() { vfsutil.WrapCheckpointDone(f.File) }

// Pragma forwards SQLITE_FCNTL_PRAGMA.
func (f File) Pragma(name, value string) (string, error) {
	return vfsutil.WrapPragma(f.File, name, value)
}

// BusyHandler forwards SQLITE_FCNTL_BUSYHANDLER.
func (f File) BusyHandler(handler func() bool) { vfsutil.WrapBusyHandler(f.File, handler) }

// SharedMemory forwards the base file's WAL-index. The methods of
// vfs.SharedMemory are unexported, so its calls cannot be intercepted.
func (f File) SharedMemory() vfs.SharedMemory { return vfsutil.WrapSharedMemory(f.File) }

// MemoryMapper forwards the base file's memory mapping; without it
// PRAGMA mmap_size would silently do nothing. Reads served from the
// mapping bypass ReadAt.
func (f File) MemoryMapper() vfs.MemoryMapper { return vfsutil.WrapMemoryMapper(f.File) }

// SetDB forwards SQLITE_FCNTL_PDB to a base file that takes it (the vfs
// package asks for an unexported interface with this method).
func (f File) SetDB(db any) {
	if f, ok := f.File.(DBSetter); ok {
		f.SetDB(db)
	}
}

// DBSetter is the interface the ncruces vfs package asks a file for on
// SQLITE_FCNTL_PDB; it declares it unexported.
type DBSetter interface {
	vfs.File
	SetDB(any)
}

// Every optional interface of the ncruces vfs package that a file can
// implement; TestComplete checks this list against the package's source.
var (
	_ vfs.FileUnwrap             = File{}
	_ vfs.FileLockState          = File{}
	_ vfs.FilePersistWAL         = File{}
	_ vfs.FilePowersafeOverwrite = File{}
	_ vfs.FileChunkSize          = File{}
	_ vfs.FileSizeHint           = File{}
	_ vfs.FileHasMoved           = File{}
	_ vfs.FileOverwrite          = File{}
	_ vfs.FileSync               = File{}
	_ vfs.FileCommitPhaseTwo     = File{}
	_ vfs.FileBatchAtomicWrite   = File{}
	_ vfs.FileCheckpoint         = File{}
	_ vfs.FilePragma             = File{}
	_ vfs.FileBusyHandler        = File{}
	_ vfs.FileSharedMemory       = File{}
	_ vfs.FileMemoryMapper       = File{}
	_ DBSetter                   = File{}
)
