package vfs

import (
	"log/slog"

	"github.com/walguard/walguard/lockcheck"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// Processes without walguard (python's sqlite3, the sqlite3 CLI, a C
// program, another Go driver, Litestream) hold SQLite's own locks and no
// slot. At each protocol join, under the agreement byte, walguard tests
// those lock bytes on the database with each mechanism that can hold them
// (sidecar.ProbeDatabaseLocks): an fcntl lock (POSIX or OFD, which the
// kernel makes conflict) and a flock lock. Admission counts what it sees
// as holders of that protocol (policy.ProtocolRequest.Foreign): a flock
// joiner is refused while fcntl holders are live, slot or not; an OFD
// joiner is admitted beside POSIX holders, which see its locks. Only at
// join: the steady state makes no extra call. Holders that hold nothing
// at that instant (a rollback-mode client between transactions) cannot be
// seen; a WAL client holds SHARED for as long as it is open.

// foreignProtocols returns the protocols seen on SQLite's own lock bytes
// of the database. A probe that fails is logged and counts nothing; the
// sidecar's declarations still decide. The agreement byte is held.
func (m *mainFile) foreignProtocols(op string) []policy.Protocol {
	if !m.db.fs.SharesMemory {
		// A network filesystem emulates flock with whole-file fcntl locks
		// (NFS): flock and fcntl holders see each other there, and an
		// fcntl probe cannot tell them apart.
		return nil
	}
	// Only holders this connection cannot be admitted beside matter: an
	// OFD joiner need not look for fcntl locks (OFD and POSIX are one
	// compatible protocol), a flock joiner for flock ones.
	fcntl := !m.besides(policy.ProtocolOFD) || !m.besides(policy.ProtocolPOSIX)
	flock := !m.besides(policy.ProtocolFlock)
	if !fcntl && !flock {
		return nil
	}
	locks, err := m.side.ProbeDatabaseLocks(fcntl, flock)
	if err != nil {
		m.g.log().Warn("walguard could not test the database's own locks", slog.String("db", m.name),
			slog.String("op", op), slog.Any("err", err))
		return nil
	}
	return countForeign(locks)
}

// countForeign turns what SQLite's lock bytes showed into the protocols
// admission counts: an fcntl lock with a pid is POSIX, one without (the
// kernel reports -1 for an OFD lock) is OFD, a flock lock is flock.
func countForeign(locks sidecar.DatabaseLocks) []policy.Protocol {
	var seen []policy.Protocol
	switch {
	case !locks.Fcntl:
	case locks.FcntlPID > 0:
		seen = append(seen, policy.ProtocolPOSIX)
	default:
		seen = append(seen, policy.ProtocolOFD)
	}
	if locks.Flock {
		seen = append(seen, policy.ProtocolFlock)
	}
	return seen
}

// besides reports whether the policy admits this connection beside a
// holder of SQLite's locks with protocol p.
func (m *mainFile) besides(p policy.Protocol) bool { return m.g.pol.AdmitsBeside(m.proto, p) }

// withoutWalguard lists, for Status, the holders of SQLite's own locks
// that have no walguard slot; an empty list where the system has no lock
// table to read (only Linux has one).
func withoutWalguard(dbPath string, side sidecar.Status) []lockcheck.ForeignParticipant {
	list, err := lockcheck.Foreign(dbPath, side)
	if err != nil {
		return []lockcheck.ForeignParticipant{}
	}
	return list
}

// flockOverNetwork reports whether this connection's SQLite locks with
// flock on a network filesystem, where flock is emulated with a lock over
// the whole file that would cover walguard's mirror bytes: those
// connections keep their declarations on the sidecar alone.
func flockOverNetwork(m *mainFile) bool {
	return m.proto == policy.ProtocolFlock && !m.db.fs.SharesMemory
}
