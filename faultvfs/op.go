package faultvfs

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/ncruces/go-sqlite3/vfs"
)

// Op is a set of VFS operations a [Rule] applies to.
type Op uint32

// The operations faultvfs intercepts. File controls (size hint, sync-super,
// atomic writes, ...), Close and the shared-memory calls are forwarded, not
// intercepted.
const (
	OpOpen              Op = 1 << iota // xOpen
	OpRead                             // xRead
	OpWrite                            // xWrite
	OpSync                             // xSync
	OpTruncate                         // xTruncate
	OpLock                             // xLock
	OpUnlock                           // xUnlock
	OpSize                             // xFileSize
	OpAccess                           // xAccess
	OpDelete                           // xDelete
	OpCheckReservedLock                // xCheckReservedLock

	// OpAll is every operation above.
	OpAll = OpOpen | OpRead | OpWrite | OpSync | OpTruncate | OpLock | OpUnlock |
		OpSize | OpAccess | OpDelete | OpCheckReservedLock
)

var opNames = [...]string{
	"open", "read", "write", "sync", "truncate", "lock", "unlock",
	"size", "access", "delete", "checkreservedlock",
}

// String returns the operation's lower-case name ("open", "read", ...), or
// the names of a set joined with "|".
func (o Op) String() string { return setString(uint32(o), uint32(OpAll), opNames[:], "Op") }

// ParseOp returns the single operation named s, as [Op.String] spells it
// (case does not matter). walguard's sidecar hook passes these names.
func ParseOp(s string) (Op, error) {
	for i, name := range opNames {
		if strings.EqualFold(s, name) {
			return Op(1) << i, nil
		}
	}
	return 0, fmt.Errorf("faultvfs: unknown operation %q", s)
}

// single reports whether o is exactly one known operation.
func (o Op) single() bool { return o&OpAll == o && bits.OnesCount32(uint32(o)) == 1 }

// index is the position of a single operation in opNames.
func (o Op) index() int { return bits.TrailingZeros32(uint32(o)) }

// Kind is a set of file kinds a [Rule] applies to.
type Kind uint32

// The file kinds. A file opened through the VFS takes its kind from the
// open flags; Access and Delete only have a name, see [KindOfName].
const (
	KindMainDB       Kind = 1 << iota // main database
	KindJournal                       // main (rollback) journal
	KindWAL                           // write-ahead log
	KindTemp                          // temp db and journal, subjournal, transient db, any nameless file
	KindSuperJournal                  // super-journal of a multi-database transaction
	KindSidecar                       // walguard's sidecar, reached only through [VFS.SidecarFault]
	KindOther                         // anything else (the -shm file, unknown flags)

	// KindAll is every kind above.
	KindAll = KindMainDB | KindJournal | KindWAL | KindTemp | KindSuperJournal | KindSidecar | KindOther
)

var kindNames = [...]string{
	"main-db", "journal", "wal", "temp", "super-journal", "sidecar", "other",
}

// String returns the kind's name ("main-db", "wal", ...), or the names of a
// set joined with "|".
func (k Kind) String() string { return setString(uint32(k), uint32(KindAll), kindNames[:], "Kind") }

func (k Kind) index() int { return bits.TrailingZeros32(uint32(k)) }

func setString(v, all uint32, names []string, typ string) string {
	if v == 0 {
		return "none"
	}
	var parts []string
	for i, name := range names {
		if v&(1<<i) != 0 {
			parts = append(parts, name)
		}
	}
	if rest := v &^ all; rest != 0 {
		parts = append(parts, fmt.Sprintf("%s(%#x)", typ, rest))
	}
	return strings.Join(parts, "|")
}

// KindOfOpen classifies a file being opened by its open flags; a nameless
// file is always [KindTemp].
func KindOfOpen(name string, flags vfs.OpenFlag) Kind {
	switch {
	case name == "":
		return KindTemp
	case flags&vfs.OPEN_MAIN_DB != 0:
		return KindMainDB
	case flags&vfs.OPEN_MAIN_JOURNAL != 0:
		return KindJournal
	case flags&vfs.OPEN_WAL != 0:
		return KindWAL
	case flags&vfs.OPEN_SUPER_JOURNAL != 0:
		return KindSuperJournal
	case flags&(vfs.OPEN_TEMP_DB|vfs.OPEN_TEMP_JOURNAL|vfs.OPEN_SUBJOURNAL|vfs.OPEN_TRANSIENT_DB) != 0:
		return KindTemp
	}
	return KindOther
}

// KindOfName classifies a file by its name alone, for Access and Delete:
// "-journal" is [KindJournal], "-wal" [KindWAL], "-walguard" [KindSidecar],
// "-shm" [KindOther], a super-journal name ("-mj" and eight hex digits with
// a 9 in seventh place, as SQLite makes them) [KindSuperJournal], and
// anything else [KindMainDB].
func KindOfName(name string) Kind {
	switch {
	case name == "":
		return KindTemp
	case strings.HasSuffix(name, "-journal"):
		return KindJournal
	case strings.HasSuffix(name, "-wal"):
		return KindWAL
	case strings.HasSuffix(name, "-walguard"):
		return KindSidecar
	case strings.HasSuffix(name, "-shm"):
		return KindOther
	case isSuperJournalName(name):
		return KindSuperJournal
	}
	return KindMainDB
}

// isSuperJournalName matches SQLite's "%s-mj%06X9%02X" super-journal names.
func isSuperJournalName(name string) bool {
	const n = len("-mj") + 9
	if len(name) < n {
		return false
	}
	s := name[len(name)-n:]
	if !strings.HasPrefix(s, "-mj") || s[9] != '9' {
		return false
	}
	for i := 3; i < n; i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
