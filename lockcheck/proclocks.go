package lockcheck

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// Lock kinds, as Lock.Kind and ProcLock.Kind name them.
const (
	KindPOSIX = "posix" // fcntl F_SETLK, owned by the process: C SQLite, the sqlite3 CLI, Python
	KindOFD   = "ofd"   // fcntl F_OFD_SETLK, owned by the open file: ncruces on Linux, walguard's sidecar
	KindFlock = "flock" // flock(2), whole file: ncruces -tags sqlite3_flock, some BSD builds
	KindLease = "lease" // a lease or NFS delegation: not a lock SQLite takes
)

// ErrNoLockTable reports that this platform has no kernel lock table to
// read (Linux's /proc/locks), so lock holders and RESERVED are unknown.
var ErrNoLockTable = errors.New("no kernel lock table on this platform")

// A ProcLock is one line of Linux's /proc/locks (or a "lock:" line of
// /proc/PID/fdinfo/FD).
//
// https://man7.org/linux/man-pages/man5/proc_locks.5.html
type ProcLock struct {
	Blocked bool   // a waiter ("->"), not a holder
	Kind    string // KindPOSIX, KindOFD, KindFlock, KindLease, or the kernel's word in lower case
	Access  string // "read", "write", or the kernel's word in lower case
	PID     int    // the owner; -1 (or 0) for an OFD lock on kernels that do not say
	Major   uint32 // device, as the kernel prints it in hex
	Minor   uint32
	Inode   uint64
	Start   int64
	End     int64 // inclusive; -1 for "EOF", to the end of any file
}

// ParseProcLocks parses the text of /proc/locks. Lines it does not
// understand are skipped; it never fails and never panics. A "lock:" prefix,
// as /proc/PID/fdinfo/FD prints, is accepted.
//
// A line reads, for example:
//
//	1: OFDLCK ADVISORY  READ -1 fe:00:9977893 1073741826 1073742335
//	2: -> POSIX  ADVISORY  WRITE 2285 08:02:1234 0 EOF
func ParseProcLocks(text string) []ProcLock {
	var locks []ProcLock
	for line := range strings.Lines(text) {
		if l, ok := parseProcLockLine(line); ok {
			locks = append(locks, l)
		}
	}
	return locks
}

func parseProcLockLine(line string) (ProcLock, bool) {
	fields := strings.Fields(line)
	if len(fields) > 0 && fields[0] == "lock:" {
		fields = fields[1:]
	}
	if len(fields) < 1 || !strings.HasSuffix(fields[0], ":") {
		return ProcLock{}, false
	}
	fields = fields[1:]
	var l ProcLock
	if len(fields) > 0 && fields[0] == "->" {
		l.Blocked = true
		fields = fields[1:]
	}
	// kind, mode (ADVISORY, MANDATORY, ACTIVE, ...), access, pid, device:inode, start, end
	if len(fields) != 7 {
		return ProcLock{}, false
	}
	l.Kind = lockKind(fields[0])
	l.Access = strings.ToLower(fields[2])
	pid, err := strconv.Atoi(fields[3])
	if err != nil {
		return ProcLock{}, false
	}
	l.PID = pid
	dev := strings.Split(fields[4], ":")
	if len(dev) != 3 {
		return ProcLock{}, false
	}
	major, err1 := strconv.ParseUint(dev[0], 16, 32)
	minor, err2 := strconv.ParseUint(dev[1], 16, 32)
	inode, err3 := strconv.ParseUint(dev[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return ProcLock{}, false
	}
	l.Major, l.Minor, l.Inode = uint32(major), uint32(minor), inode
	start, err := strconv.ParseInt(fields[5], 10, 64)
	if err != nil || start < 0 {
		return ProcLock{}, false
	}
	l.Start = start
	if fields[6] == "EOF" {
		l.End = -1
	} else if l.End, err = strconv.ParseInt(fields[6], 10, 64); err != nil || l.End < start {
		return ProcLock{}, false
	}
	return l, true
}

func lockKind(word string) string {
	switch word {
	case "POSIX":
		return KindPOSIX
	case "OFDLCK":
		return KindOFD
	case "FLOCK":
		return KindFlock
	case "LEASE", "DELEG":
		return KindLease
	}
	return strings.ToLower(word)
}

// Roles of the files a Report lists locks on.
const (
	RoleDB      = "db"
	RoleWAL     = "wal"
	RoleSHM     = "shm"
	RoleJournal = "journal"
	RoleSidecar = "sidecar"
)

// Lock bytes SQLite uses on the database file (os_unix.c, and ncruces's
// vfs/lock.go) and on the -shm file (the WAL-index locks and the
// dead-man switch).
//
// https://sqlite.org/walformat.html#wal_locks
const (
	PendingByte  = 0x40000000
	ReservedByte = PendingByte + 1
	SharedFirst  = PendingByte + 2
	SharedSize   = 510

	SHMLockBase = 120 // WRITE; then CHECKPOINT, RECOVER, READ0..READ4
	SHMDMSByte  = 128
)

// A lockRegion names a byte range, as SQLite's sources name it.
type lockRegion struct {
	lo, hi int64 // inclusive
	name   string
}

// regionsOf returns the named lock bytes of a file of the given role,
// in ascending order.
func regionsOf(role string) []lockRegion {
	switch role {
	case RoleDB:
		r := []lockRegion{
			{PendingByte, PendingByte, "PENDING"},
			{ReservedByte, ReservedByte, "RESERVED"},
			{SharedFirst, SharedFirst + SharedSize - 1, "SHARED"},
		}
		// walguard's mirror of its sidecar bytes (sidecar/mirror.go).
		for _, side := range regionsOf(RoleSidecar) {
			m := sidecar.MirrorByte(side.lo)
			r = append(r, lockRegion{m, m, "mirror " + side.name})
		}
		return r
	case RoleSHM:
		names := []string{"WRITE", "CHECKPOINT", "RECOVER", "READ0", "READ1", "READ2", "READ3", "READ4", "DMS"}
		r := make([]lockRegion, len(names))
		for i, n := range names {
			r[i] = lockRegion{SHMLockBase + int64(i), SHMLockBase + int64(i), n}
		}
		return r
	case RoleSidecar:
		r := []lockRegion{{sidecar.AgreementByte, sidecar.AgreementByte, "agreement"}}
		for p := range policy.Protocol(policy.NumProtocols) {
			r = append(r, lockRegion{sidecar.ProtocolByte(p), sidecar.ProtocolByte(p), "protocol:" + p.String()})
		}
		for _, f := range []policy.Family{policy.FamilyUnknown, policy.FamilyRollback, policy.FamilyWAL} {
			r = append(r, lockRegion{sidecar.FamilyByte(f), sidecar.FamilyByte(f), "family:" + f.String()})
		}
		for i := range sidecar.MaxSlots {
			r = append(r, lockRegion{sidecar.SlotByte(i), sidecar.SlotByte(i), "slot " + strconv.Itoa(i)})
		}
		return r
	}
	return nil
}

// maxRangeNames bounds how many names one lock's range lists.
const maxRangeNames = 3

// RangeName names the byte range [start, end] (end -1: to the end of any
// file) of a lock on a file of the given role as SQLite and walguard name
// those bytes: PENDING, RESERVED, SHARED on the database (a write lock on
// SHARED is EXCLUSIVE); WRITE, CHECKPOINT, RECOVER, READ0..READ4 and DMS on
// the -shm; agreement, protocol:NAME, family:NAME and slot N on the
// sidecar. A write lock over any of SHARED is named EXCLUSIVE alone, as it
// implies the others. Bytes with no name read "bytes START-END".
func RangeName(role string, start, end int64, write bool) string {
	if start == 0 && end < 0 {
		return "whole file"
	}
	var names []string
	for _, r := range regionsOf(role) {
		if r.hi < start || (end >= 0 && r.lo > end) {
			continue
		}
		if r.lo >= sidecar.MirrorBase && start < sidecar.MirrorBase {
			continue // SQLite's range to EOF is not walguard's mirror
		}
		if role == RoleDB && r.name == "SHARED" && write {
			return "EXCLUSIVE" // which implies PENDING and RESERVED
		}
		names = append(names, r.name)
	}
	switch {
	case len(names) == 0:
		return "bytes " + byteRange(start, end)
	case len(names) > maxRangeNames:
		return fmt.Sprintf("%s..%s (%d locks)", names[0], names[len(names)-1], len(names))
	}
	return strings.Join(names, "+")
}

func byteRange(start, end int64) string {
	if end < 0 {
		return strconv.FormatInt(start, 10) + "-EOF"
	}
	if start == end {
		return strconv.FormatInt(start, 10)
	}
	return strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(end, 10)
}

// fileID identifies a file as /proc/locks does: device and inode.
type fileID struct {
	Major, Minor uint32
	Inode        uint64
}

func (l ProcLock) fileID() fileID { return fileID{l.Major, l.Minor, l.Inode} }

// medianLocks merges several reads of a lock table that may each show an
// entry twice or miss one: every distinct lock is listed as many times as
// the median read shows it, in the order of the first read that has it.
func medianLocks(reads [][]ProcLock) []ProcLock {
	var order []ProcLock
	counts := map[ProcLock][]int{}
	for i, read := range reads {
		for _, l := range read {
			c, seen := counts[l]
			if !seen {
				c = make([]int, len(reads))
				order = append(order, l)
			}
			c[i]++
			counts[l] = c
		}
	}
	var merged []ProcLock
	for _, l := range order {
		c := counts[l]
		slices.Sort(c)
		for range c[len(c)/2] {
			merged = append(merged, l)
		}
	}
	return merged
}
