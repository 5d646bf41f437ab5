// Package walguard keeps every process that shares a SQLite database on one
// journal mode and one locking protocol, and turns transient I/O faults into
// errors that can be retried instead of corruption.
//
// Importing the package registers a VFS named "walguard" over the os VFS,
// with the default policy:
//
//	import _ "github.com/walguard/walguard"
//
// and a connection opened with the URI parameter vfs=walguard goes
// through it, with the ncruces API:
//
//	conn, err := sqlite3.Open("file:app.db?vfs=walguard")
//
// or with database/sql and the ncruces driver:
//
//	db, err := sql.Open("sqlite3", "file:app.db?vfs=walguard&_pragma=busy_timeout(5000)")
//
// A refused connection sees SQLITE_BUSY before it writes a byte; the reason
// is in PRAGMA walguard_status, [Status] and the log ([SetLogger]).
// [Register] adds a VFS under another name, over another base VFS, with
// another policy. Package vfs holds the shim, sidecar the sidecar record,
// lockcheck the inspector behind "walguard check", policy the decisions,
// errclass the classification of errors, faultvfs a fault-injection VFS for
// tests.
package walguard

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/walguard/walguard/errclass"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/vfs"
)

// VFSName is the name the default VFS is registered under.
const VFSName = "walguard"

// SupportsSidecar is true on the platforms walguard runs on: Linux and
// macOS (open file description locks) and Windows (LockFileEx). Elsewhere
// every read-write open through walguard fails with a sentence saying so.
const SupportsSidecar = vfs.SupportsSidecar

// Default is the VFS registered as "walguard" when the package is imported.
var Default = vfs.Register(VFSName, vfs.Options{})

// VFS is walguard's guarded VFS; see vfs.VFS.
type VFS = vfs.VFS

// Options configure a VFS registered with Register.
type Options = vfs.Options

// RefusalError says why walguard refused an operation; see vfs.RefusalError.
type RefusalError = vfs.RefusalError

// Register registers a guarded VFS under name, so that
// file:app.db?vfs=name uses it.
func Register(name string, opts Options) *VFS { return vfs.Register(name, opts) }

// SetLogger sends the default VFS's refusals, foreign flips and settled
// modes to l, one structured line each; nil discards (the default).
func SetLogger(l *slog.Logger) { Default.SetLogger(l) }

// Status reports the default VFS's view of the database at dbPath,
// resolved as SQLite resolves it (symbolic links followed): the sidecar
// record, live participants, the last refusal in this process, and
// counters. A missing database is an error. PRAGMA walguard_status
// returns the same as JSON.
func Status(dbPath string) (vfs.Status, error) { return Default.Status(dbPath) }

// Stats returns the default VFS's counters.
func Stats() vfs.Stats { return Default.Stats() }

// Classify tells an application what retrying can do about an error it got
// back from SQLite, walguard or the OS; see errclass.Classify.
func Classify(err error) policy.Class { return errclass.Classify(err) }

// SetJournalMode changes the journal mode of the database at path
// deliberately, through the default VFS: "wal", "delete", "truncate",
// "persist", "memory" or "off". Under the default policy it is the way
// (with the command "walguard mode DB MODE") to leave WAL, which a plain
// PRAGMA journal_mode is refused; it is also how a settled rollback family
// is tested again. It refuses while any other connection is open on the
// database (errors.Is(err, vfs.ErrNotAlone)), and records the change with
// "operator" as the reason, with this process and the time. See
// vfs.VFS.SetJournalMode.
func SetJournalMode(ctx context.Context, path, mode string) error {
	m, ok := policy.ParseJournalModeName(mode)
	if !ok {
		return fmt.Errorf("walguard: set journal mode of %s: unknown journal mode %q (want wal, delete, truncate, persist, memory or off)", path, mode)
	}
	return Default.SetJournalMode(ctx, path, m)
}
