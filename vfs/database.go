package vfs

import (
	"errors"
	"path/filepath"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/internal/forward"
	"github.com/walguard/walguard/internal/nlink"
	"github.com/walguard/walguard/policy"

	"github.com/walguard/walguard/errclass"
)

// mainFile is a main database opened as a participant. SQLite calls a
// file from one connection at a time, so its fields need no lock; state
// shared with other connections lives in db.
type mainFile struct {
	forward.File
	g     *VFS
	db    *dbState
	name  string
	side  *connSide // this connection's use of its process's participation
	proto policy.Protocol
	shm   vfs.SharedMemory // offered to SQLite; nil where WAL cannot work
	lock  vfs.LockLevel

	admitted    bool               // the protocol join succeeded
	family      policy.Family      // the family this connection was admitted to
	early       bool               // family was declared in the protocol join, before its journal was opened
	pendingMode policy.JournalMode // from an admitted PRAGMA journal_mode
	busyHandler func() bool        // SQLite's busy handler for this connection, if given
	filename    *vfs.Filename      // the name SQLite opened it with, for settle probes

	operator   bool          // opened by SetJournalMode: changes are deliberate
	approved   policy.Family // the header family an admitted pragma may write
	approvedAt policy.Family // the header family on disk when it was admitted: approved only from there
	switching  bool          // this connection's header write recorded a switch intent
	// switchUnresolved: its end of switch could not be recorded; Close
	// tries again, since other processes see the switcher live as long as
	// any connection of this process is open.
	switchUnresolved bool
	switchFrom       policy.Family // the family it switches from
	playback         bool          // SQLite is rolling back a hot journal through this connection
}

func (g *VFS) openMain(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	path := name.String()
	file, flags, err := g.openBase(name, flags)
	if err != nil {
		return nil, flags, g.transientFault(g.db(path), "open", err)
	}
	// Read-only and immutable connections cannot write, so they cannot mix
	// journals; they pass through (docs/design.md, "pass-through").
	if flags&vfs.OPEN_READONLY != 0 || name.URIBoolean("immutable", false) {
		g.stats.passThrough.Add(1)
		return file, flags, nil
	}

	m := &mainFile{File: forward.File{File: file}, g: g, db: g.db(path), name: path, proto: g.opts.Protocol}
	if name.URIBoolean("nolock", false) {
		m.proto = policy.ProtocolNoLock
	}
	m.operator = g.isOperatorToken(name.URIParameter(operatorParam))
	m.filename = name
	m.db.once.Do(func() {
		fs, err := g.opts.DetectFS(filepath.Dir(path))
		if err != nil {
			fs = FSInfo{Type: "unknown", SharesMemory: true}
		}
		m.db.mu.Lock() // Status may read it from another goroutine
		m.db.fs = fs
		m.db.mu.Unlock()
	})
	m.shm = vfsutil.WrapSharedMemory(file)
	if !m.db.fs.SharesMemory && g.pol.NetworkFS == policy.NetworkFSRollback {
		// Without shared memory SQLite can only use WAL with
		// locking_mode=EXCLUSIVE, which keeps the WAL-index private.
		m.shm = nil
	}

	if !SupportsSidecar {
		file.Close()
		return nil, flags, g.refuse(m.db, &RefusalError{
			DB: path, Op: "open", Reason: policy.ReasonSidecarUnavailable, Why: unsupportedPlatform(),
		})
	}
	// One stat: the hard-link test's, and the identity a participation
	// this process already has is checked against.
	id, links, linksKnown := statOpened(file, path)
	if linksKnown && links == 0 && !namedBy(path, id, nlink.Stat) {
		// Renamed over or removed since SQLite opened it: the -wal and
		// -journal at this name now belong to another file.
		file.Close()
		return nil, flags, g.refuse(m.db, &RefusalError{
			DB: path, Op: "open", Reason: policy.ReasonTransientFault,
			Why: "the database file was renamed over or removed while it was being opened, so its -wal and -journal names belong to another file now; retry the open",
		})
	}
	if err := g.refuseSecondName(m.db, path, links, linksKnown); err != nil {
		file.Close()
		return nil, flags, err
	}
	// A new sidecar takes the database file's permissions (Perm zero).
	// A transient fault opening the sidecar is retried within the budget,
	// then refused as transient (BUSY): only a lasting failure (EACCES, a
	// symlink, a FIFO, ...) makes the sidecar unavailable.
	m.side, err = g.joinParticipation(m.db, path, id, partKey{proto: m.proto, noMirror: flockOverNetwork(m)})
	if err != nil {
		file.Close()
		if errclass.Classify(err) == policy.ClassTransient {
			return nil, flags, g.transientFault(m.db, "open", err)
		}
		return nil, flags, g.refuse(m.db, &RefusalError{
			DB: path, Op: "open", Reason: policy.ReasonSidecarUnavailable, Err: err,
			Why: "the sidecar lock record cannot be opened, so this connection cannot join",
		})
	}
	g.stats.opens.Add(1)
	// A refused join leaves the connection open but not admitted: its
	// first lock retries the join and returns SQLITE_BUSY while refused,
	// which the busy handler retries.
	if err := m.admit("open"); err != nil && !waitable(err) {
		m.Close()
		return nil, flags, err
	}
	return m, flags, nil
}

// statOpened returns the identity and link count of the database file
// just opened: an fstat of its descriptor where the base VFS's file has
// one (the os VFS's has: no path to walk, and the file this connection
// will use even if the name was renamed over since), else a stat of path.
func statOpened(file vfs.File, path string) (id nlink.ID, links uint64, known bool) {
	if f, ok := file.(interface{ Fd() uintptr }); ok {
		if id, links, known, ok, err := nlink.Fstat(f.Fd()); ok && err == nil {
			return id, links, known
		}
	}
	id, links, known, _, _ = nlink.Stat(path)
	return id, links, known
}

// namedBy reports whether path still names the file id, by stat: the
// second look for a file whose count of names says 0, which means
// renamed over or removed on every local filesystem, but which a
// filesystem that does not count names may report for a file in place.
func namedBy(path string, id nlink.ID, stat func(string) (nlink.ID, uint64, bool, bool, error)) bool {
	now, _, _, ok, err := stat(path)
	return err == nil && ok && id != (nlink.ID{}) && now == id
}

// transientFault turns a transient fault that outlasted the retry budget,
// met before the transaction wrote anything, into a refusal (which SQLite
// sees as SQLITE_BUSY); other errors pass as they are.
func (g *VFS) transientFault(db *dbState, op string, err error) error {
	if errclass.Classify(err) != policy.ClassTransient || isBusy(err) {
		return err
	}
	return g.refuse(db, &RefusalError{DB: db.path, Op: op, Reason: policy.ReasonTransientFault,
		Why: "a transient fault outlasted the retry budget; the agreed mode is unchanged", Err: err})
}

// Close closes the database and its sidecar, which ends this connection's
// participation.
func (m *mainFile) Close() error {
	if m.switching || (m.switchUnresolved && !m.side.SwitchingHere()) {
		// Unless another connection of this process has recorded an
		// intent of its own since: the slot and pid would match it too.
		m.endSwitch()
	}
	err := m.File.Close()
	return errors.Join(err, m.side.Close())
}

// Lock is where a connection that is not admitted retries its join, and
// where a rollback writer joins the rollback family: RESERVED comes before
// the first byte of its journal.
func (m *mainFile) Lock(lock vfs.LockLevel) error {
	if !m.admitted {
		if err := m.admit("lock"); err != nil {
			return toSQLite(err, sqlite3.IOERR)
		}
	}
	if lock == vfs.LOCK_RESERVED && m.family != policy.FamilyRollback {
		if err := m.joinFamily("begin write", policy.FamilyRollback); err != nil {
			return toSQLite(err, sqlite3.IOERR)
		}
	}
	var err error
	if lock == vfs.LOCK_SHARED {
		// Taking SHARED precedes any write: transient faults are retried,
		// then reported as BUSY.
		_, err = retried(m.g, func() (struct{}, error) { return struct{}{}, m.File.Lock(lock) })
		if err != nil && !isBusy(err) {
			err = m.lockFault(err)
		}
	} else {
		err = m.File.Lock(lock)
	}
	if err == nil {
		m.lock = lock
	}
	return toSQLite(err, sqlite3.IOERR)
}

// lockFault handles a failure to take SHARED that is not contention.
func (m *mainFile) lockFault(err error) error {
	if errclass.Classify(err) == policy.ClassIncompatible && !m.db.settled.Load() {
		lasting, evidence := m.lockFaultLasts()
		if !lasting {
			return m.g.refuse(m.db, &RefusalError{DB: m.name, Op: "lock", Reason: policy.ReasonTransientFault, Err: err,
				Why: "an incompatibility that did not last (" + evidence + ") is taken for transient; the agreed mode is unchanged"})
		}
		m.settleRollback("lock", err, evidence)
	}
	return m.g.transientFault(m.db, "lock", err)
}

// Unlock forwards, tracking the lock level. A transaction that switched
// the journal family has ended: its switch is resolved.
func (m *mainFile) Unlock(lock vfs.LockLevel) error {
	if lock <= vfs.LOCK_SHARED {
		m.playback = false
		if m.switching {
			m.endSwitch()
		}
	}
	err := m.File.Unlock(lock)
	if err == nil || m.lock > lock {
		m.lock = lock
	}
	return err
}

// BusyHandler keeps SQLite's busy handler, with which refused pragmas
// wait, and forwards it.
func (m *mainFile) BusyHandler(handler func() bool) {
	m.busyHandler = handler
	m.File.BusyHandler(handler)
}

// ReadAt forwards; reads of the header are checked, without a system
// call, for a journal family that changed without walguard.
func (m *mainFile) ReadAt(p []byte, off int64) (int, error) {
	// Connections normally retry their join at xLock; a nolock=1
	// connection may never lock, so its reads are the gate instead, all
	// but the 100-byte header peek SQLite does at open, without locks.
	if !m.admitted && m.proto == policy.ProtocolNoLock && !(off == 0 && len(p) == 100) {
		if err := m.admit("read"); err != nil {
			return 0, toSQLite(err, sqlite3.IOERR)
		}
	}
	n, err := retried(m.g, func() (int, error) { return m.File.ReadAt(p, off) })
	if err != nil && off == 0 && m.lock <= vfs.LOCK_SHARED && errclass.Classify(err) == policy.ClassTransient {
		// The header, read before this transaction wrote anything.
		return n, toSQLite(m.g.transientFault(m.db, "read header", err), sqlite3.IOERR)
	}
	if off == 0 && n >= 20 {
		if f := policy.FamilyOfHeader(p[18], p[19]); f != policy.FamilyUnknown && uint32(f) != m.db.knownFamily.Load() {
			if ferr := m.observeHeader(f); ferr != nil {
				return 0, toSQLite(ferr, sqlite3.IOERR)
			}
		} else if f != policy.FamilyUnknown && m.db.switchPending.Load() && m.lock >= vfs.LOCK_SHARED && !m.playback && !m.switching {
			// Under a lock, after any hot journal was rolled back: the
			// header shows how an interrupted switch ended.
			if ferr := m.resolveInterrupted(f); ferr != nil {
				return 0, ferr
			}
		}
	}
	return n, err
}

// WriteAt forwards; a write of the header that changes the journal
// family is recorded in the sidecar before it reaches the file.
func (m *mainFile) WriteAt(p []byte, off int64) (int, error) {
	if off == 0 && len(p) >= 20 {
		if f := policy.FamilyOfHeader(p[18], p[19]); f != policy.FamilyUnknown && uint32(f) != m.db.knownFamily.Load() {
			if err := m.recordHeaderWrite(f); err != nil {
				return 0, toSQLite(err, sqlite3.IOERR)
			}
		}
	}
	return m.File.WriteAt(p, off)
}

// SharedMemory offers the base file's shared memory, or none where the
// filesystem cannot share it. SQLite calls this before every shared-memory
// operation, so it only reads a field.
func (m *mainFile) SharedMemory() vfs.SharedMemory { return m.shm }

// The files of this package forward every optional capability
// (internal/forward checks the list) and override only their gates.
var (
	_ vfs.FileSharedMemory = (*mainFile)(nil)
	_ vfs.FilePragma       = (*mainFile)(nil)
	_ forward.DBSetter     = (*mainFile)(nil)
	_ forward.DBSetter     = (*journalFile)(nil)
)
