package lockcheck

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/walguard/walguard/internal/hostid"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// A ForeignParticipant is a process that holds SQLite's own locks on the
// database or its -shm without a live walguard slot: python's sqlite3,
// the sqlite3 CLI, a C program, another Go driver, Litestream. walguard
// cannot stop it, only see it; admission counts its protocol at each join.
type ForeignParticipant struct {
	PID      int      `json:"pid"`      // 0 when the kernel does not say (an OFD lock whose owner could not be found)
	Command  string   `json:"command"`  // from /proc/PID/comm; empty when unknown
	Protocol string   `json:"protocol"` // "posix", "ofd" or "flock": the kind of its lock on the database (else on the -shm)
	Locks    []string `json:"locks"`    // what it holds, as "db SHARED", "shm DMS"
}

// foreignFrom picks, from the kernel's locks on the database and -shm,
// those on SQLite's own bytes held by processes with no walguard slot on
// this host. A lock without a pid (OFD, owner not found) is counted as
// walguard's when a walguard participant locks with OFD, and as an
// unknown process otherwise.
func foreignFrom(locks []Lock, side sidecar.Status, host string) []ForeignParticipant {
	walguardPIDs := map[int]bool{}
	ofdParticipant := slices.Contains(side.Protocols, policy.ProtocolOFD)
	for _, p := range side.Participants {
		if p.Entry != nil && (p.Entry.Host == "" || p.Entry.Host == host) {
			walguardPIDs[int(p.Entry.PID)] = true
		}
	}
	byHolder := map[[2]string]*ForeignParticipant{}
	var order [][2]string
	for _, l := range locks {
		if l.Blocked || (l.File != RoleDB && l.File != RoleSHM) || l.Start >= sidecar.MirrorBase {
			continue
		}
		if walguardPIDs[l.PID] || (l.PID == 0 && ofdParticipant) {
			continue
		}
		// One entry per process (per kind where the kernel names none).
		key := [2]string{strconv.Itoa(l.PID), ""}
		if l.PID == 0 {
			key[1] = l.Kind
		}
		f := byHolder[key]
		if f == nil {
			f = &ForeignParticipant{PID: l.PID, Command: l.Command, Protocol: l.Kind, Locks: []string{}}
			byHolder[key] = f
			order = append(order, key)
		}
		if l.File == RoleDB {
			// The database's lock says the protocol: ncruces's flock build
			// takes POSIX locks on the -shm.
			f.Protocol = l.Kind
		}
		f.Locks = appendOnce(f.Locks, l.File+" "+l.Range)
	}
	out := []ForeignParticipant{}
	for _, k := range order {
		out = append(out, *byHolder[k])
	}
	return out
}

// Foreign lists the participants without walguard of the database at
// dbPath (as SQLite names it), given its sidecar status: the holders of
// SQLite's own locks on the database and -shm that have no walguard slot.
// It reads the kernel's lock table (Linux's /proc/locks) and only reads;
// elsewhere it returns an error matching ErrNoLockTable.
func Foreign(dbPath string, side sidecar.Status) ([]ForeignParticipant, error) {
	if !hasLockTable {
		return nil, ErrNoLockTable
	}
	r := &Report{Path: dbPath, SHM: SHMInfo{Path: dbPath + "-shm"}, Locks: []Lock{}}
	r.readLocks()
	if r.LockTable == "" {
		return nil, errors.New(r.LockTableError)
	}
	return foreignFrom(r.Locks, side, hostid.Identity()), nil
}

// String names a participant without walguard, as check prints it:
// "pid 4242 (python3): posix, holds db SHARED, shm DMS".
func (f ForeignParticipant) String() string {
	return holder(f.PID, f.Command, "") + ": " + f.Protocol + ", holds " + strings.Join(f.Locks, ", ")
}
