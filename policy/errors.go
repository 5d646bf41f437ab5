package policy

import "errors"

// RefusalMarker is the text walguard puts in the message of every refusal
// that reaches an application as a plain SQLite error (a *sqlite3.Error
// with code SQLITE_BUSY and no Go error to match with errors.As). errclass.Classify
// reads such an error as [ClassMismatch].
//
// The string is stable API: applications and log filters may search for
// it, and it will not change within a major version.
const RefusalMarker = "walguard refused"

// ErrNoSharedMemory reports that a filesystem cannot share memory between
// processes, so WAL's shared-memory index cannot work on it. The shim wraps
// it (with %w or a vfs.SystemError); errclass.Classify reads it as
// [ClassIncompatible].
var ErrNoSharedMemory = errors.New("filesystem does not share memory between processes")
