package vfs

import (
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/policy"

	"github.com/walguard/walguard/errclass"
)

// VFS is walguard's guarded VFS. Create it with [New] or [Register].
type VFS struct {
	base  vfs.VFS
	opts  Options
	pol   policy.Policy
	stats counters

	logger atomic.Pointer[slog.Logger]

	mu        sync.Mutex
	dbs       map[string]*dbState // +checklocks:mu
	name      string              // +checklocks:mu; the name it is registered under
	operators map[string]bool     // +checklocks:mu; live SetJournalMode tokens
}

// dbState is what the connections of this process share about one database.
type dbState struct {
	path string
	once sync.Once
	fs   FSInfo // set once, by the first open

	// knownFamily is the header family last confirmed against the record;
	// page-1 reads compare against it without a system call.
	knownFamily atomic.Uint32
	// switchPending is set when a record read showed a switch intent, so
	// that page-1 reads under a lock look for an interrupted one.
	switchPending atomic.Bool
	// settled is set once this process settled rollback on a lasting lock
	// incompatibility, so that later lock errors are not probed again.
	settled atomic.Bool

	mu          sync.Mutex
	lastRefusal *RefusalError              // +checklocks:mu
	parts       map[partKey]*participation // +checklocks:mu; this process's participations, for its next connections
}

var (
	_ vfs.VFS         = &VFS{}
	_ vfs.VFSFilename = &VFS{}
)

// New returns a guarded VFS over opts.Base.
func New(opts Options) *VFS {
	opts = opts.withDefaults()
	g := &VFS{base: opts.Base, opts: opts, pol: *opts.Policy, dbs: map[string]*dbState{}}
	g.logger.Store(opts.Logger)
	return g
}

// SetLogger replaces the logger; nil discards. Safe to call at any time.
func (g *VFS) SetLogger(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	g.logger.Store(l)
}

func (g *VFS) log() *slog.Logger { return g.logger.Load() }

// Register creates a guarded VFS and registers it under name, so that
// file:app.db?vfs=name uses it.
//
// https://sqlite.org/c3ref/vfs_find.html
func Register(name string, opts Options) *VFS {
	g := New(opts)
	g.mu.Lock()
	g.name = name
	g.mu.Unlock()
	vfs.Register(name, g)
	return g
}

// Policy returns the policy this VFS decides with.
func (g *VFS) Policy() policy.Policy { return g.pol }

func (g *VFS) db(path string) *dbState {
	g.mu.Lock()
	defer g.mu.Unlock()
	db := g.dbs[path]
	if db == nil {
		db = &dbState{path: path}
		g.dbs[path] = db
	}
	return db
}

func (g *VFS) lookup(path string) *dbState {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.dbs[path]
}

// FullPathname forwards to the base VFS.
func (g *VFS) FullPathname(name string) (string, error) { return g.base.FullPathname(name) }

// Delete forwards to the base VFS. Deleting is part of a transaction's
// write path, so its errors are never retried or disguised.
func (g *VFS) Delete(name string, syncDir bool) error { return g.base.Delete(name, syncDir) }

// Access forwards to the base VFS, retrying transient faults.
func (g *VFS) Access(name string, flags vfs.AccessFlag) (bool, error) {
	return retried(g, func() (bool, error) { return g.base.Access(name, flags) })
}

// Open is called by SQLite only for files without a name.
func (g *VFS) Open(name string, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	if name == "" {
		return g.OpenFilename(nil, flags)
	}
	return nil, flags, sqlite3.CANTOPEN
}

// OpenFilename opens a file, telling the main database, its journal and
// its WAL apart by flags, and passing everything else through untouched.
func (g *VFS) OpenFilename(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	switch {
	case name == nil || flags&(vfs.OPEN_MEMORY|vfs.OPEN_DELETEONCLOSE) != 0:
		// Temporary and in-memory files are private to one connection.
	case flags&vfs.OPEN_MAIN_DB != 0:
		file, flags, err := g.openMain(name, flags)
		return file, flags, toSQLite(err, sqlite3.CANTOPEN)
	case flags&vfs.OPEN_WAL != 0:
		file, flags, err := g.openJournal(name, flags, policy.FamilyWAL)
		return file, flags, toSQLite(err, sqlite3.CANTOPEN)
	case flags&vfs.OPEN_MAIN_JOURNAL != 0:
		file, flags, err := g.openJournal(name, flags, policy.FamilyRollback)
		return file, flags, toSQLite(err, sqlite3.CANTOPEN)
	}
	g.stats.passThrough.Add(1)
	return vfsutil.WrapOpenFilename(g.base, name, flags)
}

// openBase opens a file on the base VFS, retrying transient faults.
func (g *VFS) openBase(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	type opened struct {
		file  vfs.File
		flags vfs.OpenFlag
	}
	o, err := retried(g, func() (opened, error) {
		file, flags, err := vfsutil.WrapOpenFilename(g.base, name, flags)
		return opened{file, flags}, err
	})
	return o.file, o.flags, err
}

// retried runs op, and runs it again while it fails with a transient
// fault and the policy's budget allows; it returns the last result. A
// first attempt that succeeds costs nothing more. SQLITE_BUSY is returned
// at once: waiting on locks is the busy handler's job.
func retried[T any](g *VFS, op func() (T, error)) (T, error) {
	v, err := op()
	if err == nil || isBusy(err) {
		return v, err
	}
	for attempt := 1; g.pol.Retry.Allows(attempt); attempt++ {
		if errclass.Classify(err) != policy.ClassTransient {
			return v, err
		}
		g.stats.retries.Add(1)
		time.Sleep(g.pol.Retry.Delay(attempt, rand.Float64()))
		if v, err = op(); err == nil {
			g.stats.recovered.Add(1)
			return v, nil
		}
		if isBusy(err) {
			return v, err
		}
	}
	return v, err
}
