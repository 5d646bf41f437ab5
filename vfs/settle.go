package vfs

import (
	"fmt"
	"time"

	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/errclass"
	"github.com/walguard/walguard/policy"
)

// The settle rule (policy.Policy.SettleProbes): an incompatible error from
// a lock call settles the rollback family only when it lasts. One ENOLCK
// can be a full lock table or a lock daemon restarting; a filesystem that
// has no locks at all fails on every descriptor, every time.

// lockFaultLasts probes whether an incompatible lock error lasts: it opens
// fresh descriptors of the database through the base VFS, spaced as the
// policy says, and takes and drops SHARED on each. It reports whether every
// probe failed with an incompatible error, and how the evidence was
// gathered, for the record's detail.
func (m *mainFile) lockFaultLasts() (bool, string) {
	start := time.Now()
	n := m.g.pol.SettleProbes
	for i := 1; i <= n; i++ {
		time.Sleep(m.g.pol.SettleProbeDelay(i))
		if err := m.probeLock(); err == nil || errclass.Classify(err) != policy.ClassIncompatible {
			return false, fmt.Sprintf("probe %d of %d on a fresh descriptor: %v", i, n, err)
		}
	}
	return true, fmt.Sprintf("again on %d fresh descriptors over %s", n, time.Since(start).Round(time.Millisecond))
}

// probeLock takes and drops SHARED on a fresh descriptor of the database.
func (m *mainFile) probeLock() error {
	if m.filename == nil {
		return fmt.Errorf("no name to open a fresh descriptor with")
	}
	f, _, err := vfsutil.WrapOpenFilename(m.g.base, m.filename, vfs.OPEN_READWRITE|vfs.OPEN_MAIN_DB)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Lock(vfs.LOCK_SHARED); err != nil {
		return err
	}
	return f.Unlock(vfs.LOCK_NONE)
}
