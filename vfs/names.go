package vfs

import (
	"fmt"
	"log/slog"

	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// One database, one name. SQLite finds a database's -journal, -wal and
// -shm by the name it was opened with, so writers that reach one file by
// two names (hard links) keep two journals for it: a hot journal one of
// them left is never rolled back by the other, two WALs append to one
// database. walguard's declarations are mirrored on the file itself, so
// they hold across names; SQLite's journals cannot. A read-write open of a
// database with several names is refused unless policy.AllowHardLinks;
// symbolic links, ".." and bind mounts name the file once (SQLite resolves
// symbolic links) and are not affected.

// refuseSecondName returns a refusal for a database file that has more
// than one name, or nil. n and known are the file's count of names, from
// the fstat openMain makes at each open (statOpened).
func (g *VFS) refuseSecondName(db *dbState, path string, n uint64, known bool) error {
	if g.pol.AllowHardLinks || !known || n <= 1 {
		return nil // an unreadable count is the base VFS's business, not a refusal
	}
	return g.refuse(db, &RefusalError{
		DB: path, Op: "open", Reason: policy.ReasonHardLinks,
		Why: fmt.Sprintf("the file has %d names (hard links), and SQLite keeps -journal and -wal by name, so writers through two names would keep two journals for one database; "+
			"remove the other links (find them with: find / -samefile %s), open this one read-only (mode=ro), or set policy.AllowHardLinks", n, path),
	})
}

// noticeReplacedSidecar marks a fresh record started while the database's
// mirror bytes show live participants: the sidecar was removed, replaced
// or renamed over while in use. Their declarations still count (they are
// tested on the mirror); the record says what happened. The agreement
// byte is held.
func (m *mainFile) noticeReplacedSidecar(rec *sidecar.Record) {
	live, err := m.side.LiveElsewhere()
	if err != nil || !live {
		return
	}
	rec.Reason = policy.ReasonSidecarReplaced
	rec.Detail = "fresh record while participants of the previous sidecar were live"
	m.g.stats.sidecarReplaced.Add(1)
	m.g.log().Warn("walguard found its sidecar replaced while in use; the live participants' declarations on the database still count",
		slog.String("db", m.name), slog.String("sidecar", m.side.Path()))
}
