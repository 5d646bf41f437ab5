package faultvfs

import (
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/internal/forward"
)

// faultFile fails the calls its VFS's rules select and forwards everything
// else, every optional capability included (package internal/forward), to
// the base file. The WAL-index's calls cannot be intercepted, and reads
// served from a memory mapping bypass ReadAt, so those are never failed.
type faultFile struct {
	forward.File
	vfs  *VFS
	path string
	kind Kind
}

// The forwarding covers every optional capability; these are the ones
// tests rely on.
var (
	_ vfs.FileSharedMemory = (*faultFile)(nil)
	_ vfs.FileMemoryMapper = (*faultFile)(nil)
	_ forward.DBSetter     = (*faultFile)(nil)
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
