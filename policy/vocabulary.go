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

// ParseJournalMode parses a PRAGMA journal_mode value, case-insensitively.
func ParseJournalMode(s string) (JournalMode, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range modeNames {
		if i > 0 && n == s {
			return JournalMode(i), true
		}
	}
	return ModeUnknown, false
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
