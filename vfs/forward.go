package vfs

import (
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"
)

// forward passes every optional capability of the wrapped file through,
// so that wrapping changes nothing SQLite can observe (invariant 6). Files
// of this package embed it and override only their gates.
type forward struct{ vfs.File }

// Unwrap returns the base file, for vfsutil.UnwrapFile.
func (f forward) Unwrap() vfs.File { return f.File }

// LockState forwards SQLITE_FCNTL_LOCKSTATE.
func (f forward) LockState() vfs.LockLevel { return vfsutil.WrapLockState(f.File) }

// PersistWAL forwards SQLITE_FCNTL_PERSIST_WAL.
func (f forward) PersistWAL() bool { return vfsutil.WrapPersistWAL(f.File) }

// SetPersistWAL forwards SQLITE_FCNTL_PERSIST_WAL.
func (f forward) SetPersistWAL(keep bool) { vfsutil.WrapSetPersistWAL(f.File, keep) }

// PowersafeOverwrite forwards SQLITE_FCNTL_POWERSAFE_OVERWRITE.
func (f forward) PowersafeOverwrite() bool { return vfsutil.WrapPowersafeOverwrite(f.File) }

// SetPowersafeOverwrite forwards SQLITE_FCNTL_POWERSAFE_OVERWRITE.
func (f forward) SetPowersafeOverwrite(psow bool) { vfsutil.WrapSetPowersafeOverwrite(f.File, psow) }

// ChunkSize forwards SQLITE_FCNTL_CHUNK_SIZE.
func (f forward) ChunkSize(size int) { vfsutil.WrapChunkSize(f.File, size) }

// SizeHint forwards SQLITE_FCNTL_SIZE_HINT.
func (f forward) SizeHint(size int64) error { return vfsutil.WrapSizeHint(f.File, size) }

// HasMoved forwards SQLITE_FCNTL_HAS_MOVED.
func (f forward) HasMoved() (bool, error) { return vfsutil.WrapHasMoved(f.File) }

// Overwrite forwards SQLITE_FCNTL_OVERWRITE.
func (f forward) Overwrite() error { return vfsutil.WrapOverwrite(f.File) }

// SyncSuper forwards SQLITE_FCNTL_SYNC.
func (f forward) SyncSuper(super string) error { return vfsutil.WrapSyncSuper(f.File, super) }

// CommitPhaseTwo forwards SQLITE_FCNTL_COMMIT_PHASETWO.
func (f forward) CommitPhaseTwo() error { return vfsutil.WrapCommitPhaseTwo(f.File) }

// BeginAtomicWrite forwards SQLITE_FCNTL_BEGIN_ATOMIC_WRITE.
func (f forward) BeginAtomicWrite() error { return vfsutil.WrapBeginAtomicWrite(f.File) }

// CommitAtomicWrite forwards SQLITE_FCNTL_COMMIT_ATOMIC_WRITE.
func (f forward) CommitAtomicWrite() error { return vfsutil.WrapCommitAtomicWrite(f.File) }

// RollbackAtomicWrite forwards SQLITE_FCNTL_ROLLBACK_ATOMIC_WRITE.
func (f forward) RollbackAtomicWrite() error { return vfsutil.WrapRollbackAtomicWrite(f.File) }

// CheckpointStart forwards SQLITE_FCNTL_CKPT_START.
func (f forward) CheckpointStart() { vfsutil.WrapCheckpointStart(f.File) }

// CheckpointDone forwards SQLITE_FCNTL_CKPT_DONE.
func (f forward) CheckpointDone() { vfsutil.WrapCheckpointDone(f.File) }

// Pragma forwards SQLITE_FCNTL_PRAGMA.
func (f forward) Pragma(name, value string) (string, error) {
	return vfsutil.WrapPragma(f.File, name, value)
}

// BusyHandler forwards SQLITE_FCNTL_BUSYHANDLER.
func (f forward) BusyHandler(handler func() bool) { vfsutil.WrapBusyHandler(f.File, handler) }

// SharedMemory forwards the base file's WAL-index.
func (f forward) SharedMemory() vfs.SharedMemory { return vfsutil.WrapSharedMemory(f.File) }

// MemoryMapper forwards the base file's memory mapping; without it
// PRAGMA mmap_size would silently do nothing.
func (f forward) MemoryMapper() vfs.MemoryMapper { return vfsutil.WrapMemoryMapper(f.File) }

// sharedMemoryOf returns a file's shared memory, or nil.
func sharedMemoryOf(f vfs.File) vfs.SharedMemory { return vfsutil.WrapSharedMemory(f) }

var (
	_ vfs.FileUnwrap             = forward{}
	_ vfs.FileLockState          = forward{}
	_ vfs.FilePersistWAL         = forward{}
	_ vfs.FilePowersafeOverwrite = forward{}
	_ vfs.FileChunkSize          = forward{}
	_ vfs.FileSizeHint           = forward{}
	_ vfs.FileHasMoved           = forward{}
	_ vfs.FileOverwrite          = forward{}
	_ vfs.FileSync               = forward{}
	_ vfs.FileCommitPhaseTwo     = forward{}
	_ vfs.FileBatchAtomicWrite   = forward{}
	_ vfs.FileCheckpoint         = forward{}
	_ vfs.FilePragma             = forward{}
	_ vfs.FileBusyHandler        = forward{}
	_ vfs.FileSharedMemory       = forward{}
	_ vfs.FileMemoryMapper       = forward{}
)
