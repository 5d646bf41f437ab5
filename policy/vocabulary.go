package policy

import "strings"

// Family is a journal family: the two ways SQLite makes a transaction
// durable. Connections of different families must never write one database.
//
// https://sqlite.org/wal.html
type Family uint8

const (
	FamilyUnknown  Family = 0 // not decided yet
	FamilyRollback Family = 1 // DELETE, TRUNCATE, PERSIST, MEMORY, OFF: header bytes 18/19 = 1
	FamilyWAL      Family = 2 // WAL: header bytes 18/19 = 2
)

// String returns "unknown", "rollback" or "wal".
func (f Family) String() string {
	switch f {
	case FamilyRollback:
		return "rollback"
	case FamilyWAL:
		return "wal"
	}
	return "unknown"
}

// Other returns the opposite family, or FamilyUnknown.
func (f Family) Other() Family {
	switch f {
	case FamilyRollback:
		return FamilyWAL
	case FamilyWAL:
		return FamilyRollback
	}
	return FamilyUnknown
}

// FamilyOfHeader returns the family named by the database header's
// write and read version bytes (offsets 18 and 19).
//
// https://sqlite.org/fileformat2.html#database_header
func FamilyOfHeader(write, read byte) Family {
	switch {
	case write == 1 && read == 1:
		return FamilyRollback
	case write == 2 && read == 2:
		return FamilyWAL
	}
	return FamilyUnknown
}

// JournalMode is a value of PRAGMA journal_mode.
//
// https://sqlite.org/pragma.html#pragma_journal_mode
type JournalMode uint8

const (
	ModeUnknown  JournalMode = 0
	ModeDelete   JournalMode = 1
	ModeTruncate JournalMode = 2
	ModePersist  JournalMode = 3
	ModeMemory   JournalMode = 4
	ModeWAL      JournalMode = 5
	ModeOff      JournalMode = 6
)

var modeNames = [...]string{"unknown", "delete", "truncate", "persist", "memory", "wal", "off"}

// String returns the mode as PRAGMA journal_mode spells it.
func (m JournalMode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "unknown"
}

// sqliteModeOrder is the order in which SQLite tries the journal mode
// names against a PRAGMA journal_mode value (sqlite3JournalModename).
var sqliteModeOrder = [...]JournalMode{ModeDelete, ModePersist, ModeOff, ModeTruncate, ModeMemory, ModeWAL}

// ParseJournalMode parses a PRAGMA journal_mode value exactly as SQLite
// does (pragma.c, PragTyp_JOURNAL_MODE): the value, already dequoted by
// SQLite's parser, names the first mode in SQLite's order (delete, persist,
// off, truncate, memory, wal) of which it is a prefix, ignoring ASCII case
// only. So "wa" and "W" are WAL, "d", "t" and "" are DELETE, TRUNCATE and
// DELETE; a value longer than every name, or with spaces, names nothing
// (SQLite then only queries the mode). Text after a NUL is ignored, as C
// does.
//
// Note that the VFS sees a query (PRAGMA journal_mode) and an empty quoted
// value both as the empty string; callers that cannot tell them apart must
// not take "" for a change.
func ParseJournalMode(s string) (JournalMode, bool) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	for _, m := range sqliteModeOrder {
		if name := m.String(); len(s) <= len(name) && asciiEqualFold(s, name[:len(s)]) {
			return m, true
		}
	}
	return ModeUnknown, false
}

// ParseJournalModeName parses a journal mode's full name, in any ASCII
// case, as String spells it: stricter than SQLite, for APIs and commands.
func ParseJournalModeName(s string) (JournalMode, bool) {
	for _, m := range sqliteModeOrder {
		if asciiEqualFold(s, m.String()) {
			return m, true
		}
	}
	return ModeUnknown, false
}

// asciiEqualFold is strings.EqualFold for ASCII letters only, as SQLite's
// sqlite3StrNICmp compares: "ſ" is not "s".
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Family returns the journal family of the mode.
func (m JournalMode) Family() Family {
	switch m {
	case ModeWAL:
		return FamilyWAL
	case ModeDelete, ModeTruncate, ModePersist, ModeMemory, ModeOff:
		return FamilyRollback
	}
	return FamilyUnknown
}

// Protocol is a file locking protocol. Connections that lock a database
// with different protocols do not see each other's locks.
type Protocol uint8

const (
	ProtocolUnknown Protocol = 0
	ProtocolOFD     Protocol = 1 // open file description locks (fcntl F_OFD_SETLK): ncruces on Linux and macOS
	ProtocolPOSIX   Protocol = 2 // process-associated fcntl locks: the sqlite3 CLI, Python, C SQLite
	ProtocolFlock   Protocol = 3 // BSD flock(2): ncruces built with -tags sqlite3_flock, and the BSDs
	ProtocolDotlk   Protocol = 4 // dot-file locks: ncruces built with -tags sqlite3_dotlk
	ProtocolNoLock  Protocol = 5 // no locks at all: the nolock=1 URI parameter
	ProtocolWindows Protocol = 6 // LockFileEx
)

// NumProtocols bounds the Protocol values; each has a lock byte in the sidecar.
const NumProtocols = 7

var protocolNames = [...]string{"unknown", "ofd", "posix", "flock", "dotlk", "nolock", "windows"}

// String returns a short lower-case name.
func (p Protocol) String() string {
	if int(p) < len(protocolNames) {
		return protocolNames[p]
	}
	return "unknown"
}

// ParseProtocol is the inverse of Protocol.String.
func ParseProtocol(s string) (Protocol, bool) {
	for i, n := range protocolNames {
		if i > 0 && n == s {
			return Protocol(i), true
		}
	}
	return ProtocolUnknown, false
}
