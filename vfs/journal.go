package vfs

import (
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/internal/forward"
	"github.com/walguard/walguard/policy"

	"github.com/walguard/walguard/errclass"
)

// journalFile is a -wal or -journal of a participant. Its writes are the
// last gate before a frame: they check, in memory, that the connection was
// admitted to the family the file belongs to.
type journalFile struct {
	forward.File
	main   *mainFile
	family policy.Family
}

// openJournal opens a -wal (family WAL) or -journal (family rollback),
// joining the connection to that family first: before SQLite can write a
// byte to it.
func (g *VFS) openJournal(name *vfs.Filename, flags vfs.OpenFlag, family policy.Family) (vfs.File, vfs.OpenFlag, error) {
	main, ok := vfsutil.UnwrapFile[*mainFile](name.DatabaseFile())
	if !ok {
		// The main database passed through: so does its journal.
		g.stats.passThrough.Add(1)
		return vfsutil.WrapOpenFilename(g.base, name, flags)
	}
	op := "open -journal"
	if family == policy.FamilyWAL {
		op = "open -wal"
	}
	// SQLite opens a leftover -journal read-only to see whether it is hot,
	// before it looks for a WAL: that read is no sign of the rollback
	// family. A hot journal is rolled back through a read-write open, which
	// joins; and every write below still checks.
	readOnly := flags&vfs.OPEN_READONLY != 0
	// A WAL declared early, in the protocol join, was not joined through a
	// journal yet: a failed open gives it back like a fresh join.
	joined := main.family == family && !main.early
	if family == policy.FamilyRollback && !readOnly && flags&vfs.OPEN_CREATE == 0 {
		// SQLite opens a hot journal read-write without CREATE to roll it
		// back; every journal it writes itself it opens with CREATE.
		main.playback = true
	}
	if !readOnly {
		if err := main.joinFamily(op, family); err != nil {
			return nil, flags, err
		}
	}
	file, flags, err := g.openBase(name, flags)
	if err != nil {
		if !readOnly && !joined {
			// Do not keep others out for a file this connection never got.
			main.releaseFamily()
		}
		if errclass.Classify(err) == policy.ClassIncompatible && family == policy.FamilyWAL {
			// Not tested for lasting: the header says WAL by now (SQLite
			// writes it before it opens -wal), so this never settles.
			main.settleRollback(op, err, "")
		}
		return nil, flags, g.transientFault(main.db, op, err)
	}
	if !readOnly && main.family == family {
		main.early = false
	}
	return &journalFile{File: forward.File{File: file}, main: main, family: family}, flags, nil
}

// WriteAt refuses a write from a connection not admitted to this file's
// family. Admission normally happened at open; this catches a connection
// whose family changed since (a journal_mode switch).
func (j *journalFile) WriteAt(p []byte, off int64) (int, error) {
	if j.main.family != j.family {
		if err := j.main.joinFamily("write", j.family); err != nil {
			return 0, toSQLite(err, sqlite3.IOERR)
		}
	}
	return j.File.WriteAt(p, off)
}

// ReadAt forwards, retrying transient faults; a WAL header read that
// still fails before the transaction wrote anything is reported as BUSY.
func (j *journalFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := retried(j.main.g, func() (int, error) { return j.File.ReadAt(p, off) })
	if err != nil && off == 0 && j.family == policy.FamilyWAL && j.main.lock <= vfs.LOCK_SHARED {
		return n, toSQLite(j.main.g.transientFault(j.main.db, "read -wal header", err), sqlite3.IOERR)
	}
	return n, err
}
