package sidecar

import (
	"errors"

	"github.com/walguard/walguard/internal/filelock"
)

// SQLite's own lock bytes on a database file (os_unix.c, os_win.c and
// ncruces's vfs/lock.go): PENDING at 0x40000000, RESERVED after it, and
// the SHARED range of 510 bytes after that.
const (
	sqlitePendingByte = 0x40000000
	sqliteLockBytes   = 512 // PENDING, RESERVED and SHARED
)

// DatabaseLocks is what the database's own lock bytes show, tested from
// walguard's descriptor of the database: who holds SQLite's locks, by
// mechanism, whether or not they use walguard.
type DatabaseLocks struct {
	Fcntl    bool // an fcntl lock (POSIX or OFD) on PENDING, RESERVED or SHARED
	FcntlPID int  // for Fcntl: the holder's pid for a POSIX lock, -1 for an OFD lock
	Flock    bool // a flock(2) lock on the file
}

// ProbeDatabaseLocks tests SQLite's own lock bytes on the database with
// the mechanisms asked for: fcntl, F_OFD_GETLK over PENDING, RESERVED and
// SHARED (which sees POSIX and OFD locks, the kernel makes them see each
// other), and flock, a LOCK_NB probe (see filelock.ProbeFlock). A
// mechanism not asked for reports nothing. It is called at join only; a
// sidecar without a database descriptor, or a platform without these
// mechanisms, reports nothing.
func (s *Sidecar) ProbeDatabaseLocks(fcntl, flock bool) (DatabaseLocks, error) {
	var l DatabaseLocks
	if s.db == nil {
		return l, nil
	}
	var err error
	if fcntl {
		l.Fcntl, l.FcntlPID, err = filelock.ProbeFcntl(s.db, sqlitePendingByte, sqliteLockBytes)
		if errors.Is(err, filelock.ErrUnsupported) {
			return DatabaseLocks{}, nil
		}
		if err != nil {
			return DatabaseLocks{}, err
		}
	}
	if flock {
		l.Flock, err = filelock.ProbeFlock(s.db)
		if errors.Is(err, filelock.ErrUnsupported) {
			return DatabaseLocks{}, nil
		}
		if err != nil {
			return DatabaseLocks{}, err
		}
	}
	return l, nil
}
