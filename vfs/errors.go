package vfs

import (
	"fmt"
	"strings"

	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"

	"github.com/walguard/walguard/errclass"
)

// A RefusalError says why walguard refused an operation: the database, the
// operation, the reason, the agreed mode with who set it and why, and
// whether retrying can help. It stays a *RefusalError inside the shim until
// the method SQLite called returns, where it becomes SQLITE_BUSY if
// retrying can help, and otherwise that call's own code (SQLITE_CANTOPEN
// on an open, SQLITE_ERROR for a pragma, SQLITE_IOERR elsewhere), under
// which the driver keeps it for errors.As. A refused pragma's message is
// its text. Read it back also with [VFS.Status], [VFS.LastRefusal] and
// PRAGMA walguard_status.
type RefusalError struct {
	DB     string         // the database path
	Op     string         // what was refused: "open", "open -wal", "begin write", "journal_mode=delete", ...
	Reason policy.Reason  // why
	Why    string         // a sentence with the particulars
	Agreed sidecar.Record // the sidecar record when it was refused (zero if unknown)
	Err    error          // the underlying error, for transient faults and incompatibilities
}

// Error names the database, the operation, the reason and whether to retry.
func (e *RefusalError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s on %s: %s", policy.RefusalMarker, e.Op, e.DB, e.Reason)
	if e.Why != "" {
		b.WriteString(": ")
		b.WriteString(e.Why)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Agreed.Generation != 0 {
		fmt.Fprintf(&b, " (agreed: %s)", e.Agreed)
	}
	b.WriteString("; ")
	b.WriteString(errclass.Describe(e))
	return b.String()
}

// Unwrap returns the underlying error, if any.
func (e *RefusalError) Unwrap() error { return e.Err }

// WalguardClass classifies the refusal for errclass.Classify.
func (e *RefusalError) WalguardClass() policy.Class {
	switch e.Reason {
	case policy.ReasonTransientFault:
		return policy.ClassTransient
	case policy.ReasonWALUnsupported, policy.ReasonSidecarCorrupt, policy.ReasonSidecarUnavailable,
		policy.ReasonHeaderSaysWAL, policy.ReasonHardLinks, policy.ReasonLeaveWAL:
		return policy.ClassIncompatible
	}
	return policy.ClassMismatch
}

// Retryable reports whether retrying the operation later can succeed.
func (e *RefusalError) Retryable() bool { return e.WalguardClass().Retryable() }
