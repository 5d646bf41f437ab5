package faultvfs

import (
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"
)

// faultFile fails the calls its VFS's rules select and forwards everything
// else, every optional capability included, to the base file.
type faultFile struct {
	vfs.File
	vfs  *VFS
	path string
	kind Kind
}

// Ensure every optional capability is forwarded.
var (
	_ vfs.FileUnwrap             = (*faultFile)(nil)
	_ vfs.FileLockState          = (*faultFile)(nil)
	_ vfs.FilePersistWAL         = (*faultFile)(nil)
	_ vfs.FilePowersafeOverwrite = (*faultFile)(nil)
	_ vfs.FileChunkSize          = (*faultFile)(nil)
	_ vfs.FileSizeHint           = (*faultFile)(nil)
	_ vfs.FileHasMoved           = (*faultFile)(nil)
	_ vfs.FileOverwrite          = (*faultFile)(nil)
	_ vfs.FileSync               = (*faultFile)(nil)
	_ vfs.FileCommitPhaseTwo     = (*faultFile)(nil)
	_ vfs.FileBatchAtomicWrite   = (*faultFile)(nil)
	_ vfs.FileCheckpoint         = (*faultFile)(nil)
	_ vfs.FilePragma             = (*faultFile)(nil)
	_ vfs.FileBusyHandler        = (*faultFile)(nil)
	_ vfs.FileSharedMemory       = (*faultFile)(nil)
	_ vfs.FileMemoryMapper       = (*faultFile)(nil)
)

func (f *faultFile) fault(op Op) error { return f.vfs.fault(op, f.kind, f.path) }

// ReadAt fails with OpRead or reads from the base file.
func (f *faultFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fault(OpRead); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

// WriteAt fails with OpWrite or writes to the base file.
func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fault(OpWrite); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

// Truncate fails with OpTruncate or truncates the base file.
func (f *faultFile) Truncate(size int64) error {
	if err := f.fault(OpTruncate); err != nil {
		return err
	}
	return f.File.Truncate(size)
}

// Sync fails with OpSync or syncs the base file.
func (f *faultFile) Sync(flags vfs.SyncFlag) error {
	if err := f.fault(OpSync); err != nil {
		return err
	}
	return f.File.Sync(flags)
}

// Size fails with OpSize or returns the base file's size.
func (f *faultFile) Size() (int64, error) {
	if err := f.fault(OpSize); err != nil {
		return 0, err
	}
	return f.File.Size()
}

// Lock fails with OpLock or locks the base file.
func (f *faultFile) Lock(lock vfs.LockLevel) error {
	if err := f.fault(OpLock); err != nil {
		return err
	}
	return f.File.Lock(lock)
}

// Unlock fails with OpUnlock or unlocks the base file.
func (f *faultFile) Unlock(lock vfs.LockLevel) error {
	if err := f.fault(OpUnlock); err != nil {
		return err
	}
	return f.File.Unlock(lock)
}

// CheckReservedLock fails with OpCheckReservedLock or asks the base file.
func (f *faultFile) CheckReservedLock() (bool, error) {
	if err := f.fault(OpCheckReservedLock); err != nil {
		return false, err
	}
	return f.File.CheckReservedLock()
}

// Unwrap returns the base file, for vfsutil.UnwrapFile.
func (f *faultFile) Unwrap() vfs.File { return f.File }

// LockState forwards SQLITE_FCNTL_LOCKSTATE.
func (f *faultFile) LockState() vfs.LockLevel { return vfsutil.WrapLockState(f.File) }

// PersistWAL forwards SQLITE_FCNTL_PERSIST_WAL.
func (f *faultFile) PersistWAL() bool { return vfsutil.WrapPersistWAL(f.File) }

// SetPersistWAL forwards SQLITE_FCNTL_PERSIST_WAL.
func (f *faultFile) SetPersistWAL(keep bool) { vfsutil.WrapSetPersistWAL(f.File, keep) }

// PowersafeOverwrite forwards SQLITE_FCNTL_POWERSAFE_OVERWRITE.
func (f *faultFile) PowersafeOverwrite() bool { return vfsutil.WrapPowersafeOverwrite(f.File) }

// SetPowersafeOverwrite forwards SQLITE_FCNTL_POWERSAFE_OVERWRITE.
func (f *faultFile) SetPowersafeOverwrite(psow bool) {
	vfsutil.WrapSetPowersafeOverwrite(f.File, psow)
}

// ChunkSize forwards SQLITE_FCNTL_CHUNK_SIZE.
func (f *faultFile) ChunkSize(size int) { vfsutil.WrapChunkSize(f.File, size) }

// SizeHint forwards SQLITE_FCNTL_SIZE_HINT.
func (f *faultFile) SizeHint(size int64) error { return vfsutil.WrapSizeHint(f.File, size) }

// HasMoved forwards SQLITE_FCNTL_HAS_MOVED.
func (f *faultFile) HasMoved() (bool, error) { return vfsutil.WrapHasMoved(f.File) }

// Overwrite forwards SQLITE_FCNTL_OVERWRITE.
func (f *faultFile) Overwrite() error { return vfsutil.WrapOverwrite(f.File) }

// SyncSuper forwards SQLITE_FCNTL_SYNC.
func (f *faultFile) SyncSuper(super string) error { return vfsutil.WrapSyncSuper(f.File, super) }

// CommitPhaseTwo forwards SQLITE_FCNTL_COMMIT_PHASETWO.
func (f *faultFile) CommitPhaseTwo() error { return vfsutil.WrapCommitPhaseTwo(f.File) }

// BeginAtomicWrite forwards SQLITE_FCNTL_BEGIN_ATOMIC_WRITE.
func (f *faultFile) BeginAtomicWrite() error { return vfsutil.WrapBeginAtomicWrite(f.File) }

// CommitAtomicWrite forwards SQLITE_FCNTL_COMMIT_ATOMIC_WRITE.
func (f *faultFile) CommitAtomicWrite() error { return vfsutil.WrapCommitAtomicWrite(f.File) }

// RollbackAtomicWrite forwards SQLITE_FCNTL_ROLLBACK_ATOMIC_WRITE.
func (f *faultFile) RollbackAtomicWrite() error { return vfsutil.WrapRollbackAtomicWrite(f.File) }

// CheckpointStart forwards SQLITE_FCNTL_CKPT_START.
func (f *faultFile) CheckpointStart() { vfsutil.WrapCheckpointStart(f.File) }

// CheckpointDone forwards SQLITE_FCNTL_CKPT_DONE.
func (f *faultFile) CheckpointDone() { vfsutil.WrapCheckpointDone(f.File) }

// Pragma forwards SQLITE_FCNTL_PRAGMA.
func (f *faultFile) Pragma(name, value string) (string, error) {
	return vfsutil.WrapPragma(f.File, name, value)
}

// BusyHandler forwards SQLITE_FCNTL_BUSYHANDLER.
func (f *faultFile) BusyHandler(handler func() bool) { vfsutil.WrapBusyHandler(f.File, handler) }

// SharedMemory forwards the base file's WAL-index as is: the methods of
// vfs.SharedMemory are unexported, so its calls cannot be intercepted.
func (f *faultFile) SharedMemory() vfs.SharedMemory { return vfsutil.WrapSharedMemory(f.File) }

// MemoryMapper forwards the base file's memory mapping; reads served from
// the mapping bypass ReadAt and so are not failed.
func (f *faultFile) MemoryMapper() vfs.MemoryMapper { return vfsutil.WrapMemoryMapper(f.File) }

// SetDB forwards SQLITE_FCNTL_PDB to a base file that takes it (the vfs
// package asks for an unexported interface with this method).
func (f *faultFile) SetDB(db any) {
	if f, ok := f.File.(interface{ SetDB(any) }); ok {
		f.SetDB(db)
	}
}
