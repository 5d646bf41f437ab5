package sidecar

import (
	"errors"
	"io/fs"
	"os"
	"runtime"

	"github.com/walguard/walguard/internal/filelock"
	"github.com/walguard/walguard/policy"
)

// shmDMS is the offset of SQLite's dead-man-switch lock byte in a -shm
// file (os_unix.c's UNIX_SHM_DMS, ncruces's _SHM_DMS): every connection
// that has the WAL-index open holds a read lock on it for as long as it
// does.
const shmDMS = 120 + 8

// WALUnderAnotherName reports whether a live participant declares the WAL
// family on the database's mirror but not on this sidecar, while nobody
// has the WAL-index of this name open (no lock on the dead-man switch of
// dbPath's -shm) and a
// participant holds a mirrored slot that this sidecar does not show: it
// reached the database through another sidecar, so through another name
// (the database renamed, or linked and unlinked, while open), with a -wal
// and a -shm of its own. A connection that joined WAL through this name
// would append to a second WAL of the same file.
//
// It costs one lock test, two beside a live WAL participant; it reports
// false wherever it cannot tell (no mirror, no lock test of the -shm
// without taking the lock, as on Windows).
func (s *Sidecar) WALUnderAnotherName(dbPath string) (bool, error) {
	if s.db == nil || runtime.GOOS == "windows" || !filelock.Supported {
		return false, nil
	}
	if held, err := filelock.Test(s.db, MirrorByte(FamilyByte(policy.FamilyWAL))); err != nil || !held {
		return false, err
	}
	// A WAL declaration on this sidecar: WAL writers use this name (the
	// common case, two lock tests in all). A newcomer through another name
	// is refused here and never declares, so this does not hide the writers
	// of the old name from the next one.
	if held, err := filelock.Test(s.f, FamilyByte(policy.FamilyWAL)); err != nil || held {
		return false, err
	}
	if open, err := shmInUse(dbPath + "-shm"); err != nil || open {
		return false, err
	}
	return s.mirrorOnlySlot(0, MaxSlots)
}

// shmInUse reports whether another open holds a lock on the -shm's
// dead-man switch: some connection has that WAL-index open.
func shmInUse(path string) (bool, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow|oNonBlock, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	return filelock.Test(f, shmDMS)
}

// mirrorOnlySlot reports whether a slot in [lo, hi) is held on the mirror
// but not on this sidecar. F_OFD_GETLK answers with one held range, not
// necessarily the lowest, so both sides of it are tested again.
func (s *Sidecar) mirrorOnlySlot(lo, hi int) (bool, error) {
	if lo >= hi {
		return false, nil
	}
	base := MirrorByte(SlotByte(0))
	found, start, n, err := filelock.TestRange(s.db, base+int64(lo), int64(hi-lo))
	if err != nil || !found {
		return false, err
	}
	first, end := int(start-base), int(start-base+n)
	for i := first; i < end; i++ {
		held, err := filelock.Test(s.f, SlotByte(i))
		if err != nil || !held {
			return !held && err == nil, err
		}
	}
	if only, err := s.mirrorOnlySlot(lo, first); err != nil || only {
		return only, err
	}
	return s.mirrorOnlySlot(end, hi)
}
