package policy

// Reason says why the agreed mode was set, or why a connection was refused.
// It is stored in the sidecar record as one byte, so values never change.
type Reason uint8

// Why the agreed mode was recorded.
const (
	ReasonNone         Reason = 0
	ReasonFirstUse     Reason = 1 // the first walguard connection recorded the header's family
	ReasonPragma       Reason = 2 // a walguard connection ran PRAGMA journal_mode
	ReasonIncompatible Reason = 3 // a deterministic incompatibility settled the rollback family
	ReasonNetworkFS    Reason = 4 // the filesystem cannot share memory between processes
	ReasonForeignFlip  Reason = 5 // a process without walguard changed header bytes 18/19
	ReasonRebuilt      Reason = 6 // the record was torn or garbage and was rebuilt
	// ReasonSidecarReplaced: a fresh record was started while the database's
	// mirror bytes showed live participants: the sidecar was removed or
	// replaced while in use.
	ReasonSidecarReplaced Reason = 12
	ReasonOperator        Reason = 7 // an operator changed the mode deliberately (SetJournalMode, walguard mode)
	ReasonRecovered       Reason = 8 // an interrupted switch was completed or rolled back, as the header showed
)

// Why a connection or a statement was refused.
const (
	ReasonProtocolMismatch   Reason = 16 // a live participant locks with another protocol
	ReasonFamilyMismatch     Reason = 17 // a live participant writes with the other journal family
	ReasonDowngradeWhileWAL  Reason = 18 // leaving WAL while another connection uses it
	ReasonUpgradeWhileLive   Reason = 19 // entering WAL while another connection writes a rollback journal
	ReasonNoLock             Reason = 20 // a nolock=1 connection while others are live, or the reverse
	ReasonSecondHost         Reason = 21 // a WAL participant on another host
	ReasonWALUnsupported     Reason = 22 // WAL asked for where the agreed family is rollback for a deterministic reason
	ReasonTransientFault     Reason = 23 // a transient fault outlasted the retry budget
	ReasonSidecarCorrupt     Reason = 24 // the sidecar record is corrupt and the policy refuses to rebuild it
	ReasonSidecarUnavailable Reason = 25 // the sidecar cannot be opened or locked
	ReasonSlotsFull          Reason = 26 // every participant slot is taken
	ReasonHeaderSaysWAL      Reason = 27 // a rollback decision refused because the header says WAL
	ReasonForeignFlipRefused Reason = 28 // the header was flipped by a foreign process and the policy refuses it
	ReasonHardLinks          Reason = 40 // the database has several names (hard links) and the policy refuses writing
	ReasonLeaveWAL           Reason = 29 // leaving WAL other than deliberately (SetJournalMode, walguard mode)
	ReasonOthersLive         Reason = 30 // a deliberate mode change while other participants are live
)

var reasonText = map[Reason]string{
	ReasonNone:               "none",
	ReasonFirstUse:           "first use",
	ReasonPragma:             "journal_mode pragma",
	ReasonIncompatible:       "deterministic incompatibility",
	ReasonNetworkFS:          "filesystem cannot share memory",
	ReasonForeignFlip:        "header changed without walguard",
	ReasonRebuilt:            "record rebuilt",
	ReasonSidecarReplaced:    "sidecar replaced while in use",
	ReasonOperator:           "operator",
	ReasonRecovered:          "interrupted switch recovered",
	ReasonProtocolMismatch:   "locking protocol mismatch",
	ReasonFamilyMismatch:     "journal family mismatch",
	ReasonDowngradeWhileWAL:  "downgrade while WAL in use",
	ReasonUpgradeWhileLive:   "WAL while rollback writers live",
	ReasonNoLock:             "nolock connection shares the database",
	ReasonSecondHost:         "WAL participant on another host",
	ReasonWALUnsupported:     "WAL not supported here",
	ReasonTransientFault:     "transient fault",
	ReasonSidecarCorrupt:     "sidecar corrupt",
	ReasonSidecarUnavailable: "sidecar unavailable",
	ReasonSlotsFull:          "participant slots full",
	ReasonHeaderSaysWAL:      "header says WAL",
	ReasonForeignFlipRefused: "foreign header flip refused",
	ReasonHardLinks:          "database has several names",
	ReasonLeaveWAL:           "leaving WAL is deliberate",
	ReasonOthersLive:         "other participants live",
}

// String returns a short lower-case phrase.
func (r Reason) String() string {
	if s, ok := reasonText[r]; ok {
		return s
	}
	return "unknown reason"
}

// Refusal reports whether the reason is a refusal rather than a record of
// why the agreed mode was set.
func (r Reason) Refusal() bool { return r >= 16 }

// Class sorts errors by what retrying can do about them.
type Class uint8

const (
	// ClassOther: neither known transient nor a deterministic incompatibility;
	// reported as it is.
	ClassOther Class = iota
	// ClassTransient: a retry may succeed (EIO, EINTR, EAGAIN, ENOMEM,
	// ETIMEDOUT, a lock that could not be taken, SQLITE_BUSY).
	ClassTransient
	// ClassIncompatible: deterministic for this filesystem or host
	// (SQLITE_PROTOCOL, SQLITE_AUTH, ENOLCK, ENOSYS, EOPNOTSUPP on locks);
	// retrying will fail the same way.
	ClassIncompatible
	// ClassMismatch: walguard refused because participants disagree;
	// retrying succeeds once the other participants close or agree.
	ClassMismatch
)

var classNames = [...]string{"other", "transient", "incompatible", "mismatch"}

// String returns "other", "transient", "incompatible" or "mismatch".
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "other"
}

// Retryable reports whether retrying the same operation later can succeed.
func (c Class) Retryable() bool { return c == ClassTransient || c == ClassMismatch }
