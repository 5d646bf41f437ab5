package policy

import (
	"fmt"
	"time"
)

// Policy is the set of choices walguard makes on a user's behalf. The zero
// value is not useful; start from Default and change what you need.
type Policy struct {
	// Retry bounds the retries of transient faults inside the shim, on
	// operations that come before a transaction's first write.
	Retry Retry

	// NetworkFS says what to do on a filesystem that cannot share memory
	// between processes (NFS, SMB, FUSE, 9p, ...).
	NetworkFS NetworkFSAction

	// ForeignFlip says what to do when the database header's journal family
	// changed without a walguard connection changing it.
	ForeignFlip FlipAction

	// CorruptRecord says what to do with a torn or garbage sidecar record.
	CorruptRecord RecordAction

	// AllowNoLock admits a nolock=1 connection while other connections are
	// live. Off by default: a connection that takes no locks is a locking
	// protocol of its own, and nothing protects the others from it.
	AllowNoLock bool

	// AllowSecondHostWAL admits a WAL participant while a live participant
	// runs on another host. Off by default: WAL's shared memory cannot span
	// hosts.
	AllowSecondHostWAL bool

	// AllowHardLinks admits read-write connections to a database file that
	// has more than one name (hard links). Off by default: SQLite keeps
	// -journal, -wal and -shm by name, so writers through two names use two
	// journals for one file. walguard's own declarations hold across names
	// (they are mirrored on the file itself), SQLite's journals do not.
	AllowHardLinks bool
	// DowngradeWhenAlone lets a plain PRAGMA journal_mode leave WAL when no
	// other participant uses WAL, as walguard did before leaving WAL became
	// a deliberate act. Off by default: an error handler that falls back
	// to DELETE (the post-mortem's routine) would otherwise downgrade a WAL
	// database for good whenever it happens to be alone. Applications that
	// need to leave WAL should call walguard.SetJournalMode or run
	// "walguard mode DB delete" instead.
	DowngradeWhenAlone bool

	// SettleProbes and SettleSpacing are the settle rule: a deterministic
	// incompatibility from a lock call (ENOLCK, ENOSYS, EOPNOTSUPP) settles
	// the rollback family only if the same class of error comes back on
	// each of SettleProbes fresh descriptors opened through the base VFS,
	// the i-th tried SettleSpacing·2^(i-1) after the one before. ENOLCK
	// can be transient (a full lock table, a lock daemon restarting): one
	// success anywhere and nothing is recorded. Default 3 probes from 10ms
	// (about 70ms in all); zero probes settles on the first error.
	SettleProbes  int
	SettleSpacing time.Duration
}

// NetworkFSAction is the choice for filesystems that cannot share memory.
type NetworkFSAction uint8

const (
	// NetworkFSRollback agrees on the rollback family, records the
	// filesystem as the reason, and refuses journal_mode=WAL.
	NetworkFSRollback NetworkFSAction = iota
	// NetworkFSAllowWAL trusts the filesystem's shared memory (only for a
	// filesystem used by one host, which walguard cannot verify).
	NetworkFSAllowWAL
)

// FlipAction is the choice for a header flip made without walguard.
type FlipAction uint8

const (
	// FlipAdopt records the header's family as agreed, logs the flip and
	// counts it. Live walguard participants of the other family keep being
	// refused until they close.
	FlipAdopt FlipAction = iota
	// FlipRefuse refuses every connection until an operator resolves the
	// disagreement (walguard check explains it).
	FlipRefuse
)

// RecordAction is the choice for a corrupt sidecar record.
type RecordAction uint8

const (
	// RecordRebuild rebuilds the record from the database header and the
	// live participants, noting the rebuild as its reason.
	RecordRebuild RecordAction = iota
	// RecordRefuse refuses connections until the sidecar is repaired.
	RecordRefuse
)

// Default returns the safe defaults: WAL preferred and left only
// deliberately, never while in use, rollback on network filesystems, foreign flips adopted and
// logged, corrupt records rebuilt, nolock and cross-host WAL refused.
func Default() Policy {
	return Policy{Retry: DefaultRetry(), SettleProbes: 3, SettleSpacing: 10 * time.Millisecond}
}

// SettleProbeDelay returns the wait before settle probe i (1 is the first):
// SettleSpacing·2^(i-1), capped at one second.
func (p Policy) SettleProbeDelay(i int) time.Duration {
	d := max(p.SettleSpacing, 0)
	for ; i > 1 && d < time.Second; i-- {
		d *= 2
	}
	return min(d, time.Second)
}

// Decision is the answer to a question put to a Policy.
type Decision struct {
	Allow  bool
	Reason Reason // why it was refused; ReasonNone when allowed
	Why    string // a sentence for the error message and the log
}

func allow() Decision { return Decision{Allow: true} }

func refuse(r Reason, format string, args ...any) Decision {
	return Decision{Reason: r, Why: fmt.Sprintf(format, args...)}
}

// ProtocolRequest describes a connection joining with a locking protocol.
type ProtocolRequest struct {
	Mine   Protocol
	Others []Protocol // protocols held by other live participants
	// Foreign are the protocols seen on SQLite's own lock bytes of the
	// database (an fcntl lock: ProtocolPOSIX or ProtocolOFD; a flock lock:
	// ProtocolFlock), held by processes that may not use walguard at all.
	Foreign []Protocol
}

// Compatible reports whether connections locking with a and b see each
// other's locks. Besides a protocol and itself, OFD and POSIX fcntl locks
// are one family: on Linux and macOS (the only systems with OFD locks) the
// kernel makes them conflict with each other, byte for byte, so ncruces's
// default build and C SQLite (the sqlite3 CLI, Python) keep each other out
// as SQLite expects.
func Compatible(a, b Protocol) bool {
	fcntl := func(p Protocol) bool { return p == ProtocolOFD || p == ProtocolPOSIX }
	return a == b || (fcntl(a) && fcntl(b))
}

// AdmitProtocol decides whether a connection locking with req.Mine may join
// the participants. Invariant 1: one locking protocol per database, where
// compatible protocols (see Compatible) count as one; holders of SQLite's
// own locks count too, walguard or not (invariant 9).
func (p Policy) AdmitProtocol(req ProtocolRequest) Decision {
	for _, o := range req.Others {
		if d := p.admitBeside(req.Mine, o, "a live participant"); !d.Allow {
			return d
		}
	}
	for _, o := range req.Foreign {
		if d := p.admitBeside(req.Mine, o, "a process holding the database's own SQLite locks (without walguard, or of another build)"); !d.Allow {
			return d
		}
	}
	return allow()
}

// AdmitsBeside reports whether a connection locking with mine may join
// beside one holder locking with o: AdmitProtocol's rule for one holder,
// without building a refusal. A joiner uses it to skip probes for holders
// it would be admitted beside anyway.
func (p Policy) AdmitsBeside(mine, o Protocol) bool {
	return Compatible(o, mine) || ((o == ProtocolNoLock || mine == ProtocolNoLock) && p.AllowNoLock)
}

// admitBeside decides one other holder's protocol o against mine.
func (p Policy) admitBeside(mine, o Protocol, who string) Decision {
	switch {
	case Compatible(o, mine):
		return allow()
	case o == ProtocolNoLock || mine == ProtocolNoLock:
		if p.AllowNoLock {
			return allow()
		}
		return refuse(ReasonNoLock, "this connection locks with %s and %s with %s; a connection without locks cannot share a database", mine, who, o)
	}
	return refuse(ReasonProtocolMismatch, "this connection locks with %s but %s locks with %s", mine, who, o)
}

// FamilyRequest describes a connection about to write with a journal family.
type FamilyRequest struct {
	Want           Family
	OthersInOther  bool     // another live participant holds the other family
	Agreed         Family   // the family in the sidecar record
	AgreedReason   Reason   // why the record says so
	SharesMemory   bool     // the filesystem can share memory between processes
	OtherHostsLive []string // hosts of live participants other than this one
	HeaderSaysWAL  bool     // the database header says WAL right now
	ReservedHeld   bool     // SQLite's RESERVED lock on the database is held: a rollback writer is mid-transaction
	Deliberate     bool     // an operator's deliberate change: a settled rollback is tested again
	// WALUnderAnotherName: a live participant writes WAL to this database
	// through another name (renamed, or linked and unlinked, while open),
	// with a -wal and -shm of its own.
	WALUnderAnotherName bool
}

// AdmitFamily decides whether a connection may start writing with
// req.Want. Invariants 1 and 3: never two families at once, and WAL never
// where shared memory cannot work.
//
// Invariant 8: a rollback declaration does not keep WAL out once the header
// says WAL. SQLite follows the header at the start of every transaction,
// so no connection can write a rollback journal for that database any
// more, except by leaving WAL, which Transition gates on its own. A
// rollback writer already in a transaction (RESERVED held) when the header
// changed under it (a process whose locks walguard's do not see) still
// counts.
func (p Policy) AdmitFamily(req FamilyRequest) Decision {
	if req.OthersInOther && !(req.Want == FamilyWAL && req.HeaderSaysWAL && !req.ReservedHeld) {
		return refuse(ReasonFamilyMismatch, "a live participant writes with the %s journal; this connection wants %s", req.Want.Other(), req.Want)
	}
	if req.Want != FamilyWAL {
		return allow()
	}
	if req.WALUnderAnotherName && !p.AllowHardLinks {
		return refuse(ReasonFamilyMismatch, "a live participant writes WAL to this database through another name (renamed, or linked and unlinked, while open), "+
			"with a -wal and -shm of its own; a second WAL on the same file would lose commits; retry when it closes")
	}
	if !req.SharesMemory && p.NetworkFS == NetworkFSRollback {
		return refuse(ReasonWALUnsupported, "the filesystem cannot share memory between processes; WAL needs it")
	}
	if req.Agreed == FamilyRollback && permanentRollback(req.AgreedReason) && !req.Deliberate {
		return refuse(ReasonWALUnsupported, "the agreed family is rollback (%s)", req.AgreedReason)
	}
	if len(req.OtherHostsLive) > 0 && !p.AllowSecondHostWAL {
		return refuse(ReasonSecondHost, "a live participant runs on host %s; WAL's shared memory cannot span hosts", req.OtherHostsLive[0])
	}
	return allow()
}

// permanentRollback reports whether a recorded reason settles the rollback
// family for good, so that WAL is refused without trying again.
func permanentRollback(r Reason) bool {
	return r == ReasonIncompatible || r == ReasonNetworkFS
}

// TransitionRequest describes a PRAGMA journal_mode that changes family.
type TransitionRequest struct {
	From, To      Family // the header's family, and the pragma's
	OthersInFrom  bool   // another live participant holds the From family
	HeaderSaysWAL bool   // the header or the record says WAL
	Deliberate    bool   // the operator's way: walguard.SetJournalMode or walguard mode
	OthersLive    bool   // another participant is live (any family); checked for deliberate changes
	FamilyRequest        // facts for admitting To
}

// Transition decides whether PRAGMA journal_mode may move the database from
// one family to the other. Invariant 2: WAL is left only deliberately, and
// never while another connection uses it; a deliberate change of any kind
// needs the database to itself.
func (p Policy) Transition(req TransitionRequest) Decision {
	if req.Deliberate && req.OthersLive {
		return refuse(ReasonOthersLive, "a deliberate mode change needs the database to itself; retry when the other participants have closed")
	}
	if req.To == FamilyUnknown {
		return allow()
	}
	req.FamilyRequest.Want = req.To
	req.FamilyRequest.Deliberate = req.Deliberate
	leaving := req.To == FamilyRollback && (req.From == FamilyWAL || req.HeaderSaysWAL)
	if !leaving && (req.From == req.To || req.From == FamilyUnknown) {
		// No change of family: only what admitting the family checks.
		return p.AdmitFamily(req.FamilyRequest)
	}
	if req.OthersInFrom {
		if leaving {
			return refuse(ReasonDowngradeWhileWAL, "another live connection uses WAL; leaving WAL now would mix journal families")
		}
		return refuse(ReasonUpgradeWhileLive, "another live connection writes with the rollback journal; WAL can be enabled when it closes")
	}
	if leaving && !req.Deliberate && !p.DowngradeWhenAlone {
		return refuse(ReasonLeaveWAL, "the database is in WAL and leaving WAL is a deliberate act, never a fallback: "+
			"use walguard.SetJournalMode(ctx, path, mode) or run \"walguard mode DB delete\" while no other connection is open")
	}
	return p.AdmitFamily(req.FamilyRequest)
}

// SettleRequest describes an error met while entering WAL.
type SettleRequest struct {
	Class         Class
	Lasting       bool // the error persisted as the settle rule asks (SettleProbes)
	HeaderSaysWAL bool
	WALLive       bool // another live participant uses WAL
}

// Settle decides whether an error met while entering WAL may settle the
// agreed family on rollback. Invariant 3: only a deterministic signal may,
// and never while the header says WAL or a live participant uses WAL.
func (p Policy) Settle(req SettleRequest) Decision {
	switch {
	case req.Class != ClassIncompatible:
		return refuse(ReasonTransientFault, "a %s error never changes the agreed journal mode", req.Class)
	case !req.Lasting:
		return refuse(ReasonTransientFault, "a %s error that did not persist on fresh descriptors is taken for transient", req.Class)
	case req.HeaderSaysWAL:
		return refuse(ReasonHeaderSaysWAL, "the database header says WAL; it is never downgraded on an error")
	case req.WALLive:
		return refuse(ReasonDowngradeWhileWAL, "another live connection uses WAL")
	}
	return allow()
}
