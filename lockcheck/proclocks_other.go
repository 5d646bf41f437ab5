//go:build !linux

package lockcheck

import "os"

// readLockTable has no kernel lock table to read outside Linux.
func readLockTable(map[fileID]string) ([]ProcLock, string, error) {
	return nil, "", ErrNoLockTable
}

// fileIdentity is unused without a lock table.
func fileIdentity(os.FileInfo) (fileID, bool) { return fileID{}, false }

// processName is unused without a lock table.
func processName(int) string { return "" }

// hasLockTable: no kernel lock table outside Linux.
const hasLockTable = false
