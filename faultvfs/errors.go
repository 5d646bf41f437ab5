package faultvfs

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"
)

// ErrInjected matches, with errors.Is, every error faultvfs made up itself
// (an [*InjectedError]). It does not match a [Rule.Err] given by the caller,
// which is returned exactly as given.
var ErrInjected = errors.New("faultvfs: injected fault")

// InjectedError is the default error of a [Rule] whose Err is nil. Its text
// names the rule and says the fault was injected; Unwrap gives the error the
// os VFS would have returned (an *os.PathError or a bare syscall.Errno,
// always syscall.EIO), so errors.Is(err, syscall.EIO) holds.
type InjectedError struct {
	Rule string // the rule's name
	Op   Op     // the operation that failed
	Kind Kind   // the kind of file it failed on
	Path string // the file's name; empty for a nameless temp file
	Err  error  // the realistic error underneath
}

// Error returns, e.g., `faultvfs: rule "wal-eio": injected EIO on open of /x/app.db-wal`.
func (e *InjectedError) Error() string {
	path := e.Path
	if path == "" {
		path = "a nameless " + e.Kind.String() + " file"
	}
	return fmt.Sprintf("faultvfs: rule %q: injected EIO on %s of %s", e.Rule, e.Op, path)
}

// Unwrap returns the realistic error underneath.
func (e *InjectedError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrInjected].
func (e *InjectedError) Is(target error) bool { return target == ErrInjected }

// osOpNames are the Op fields of the *os.PathError values the os VFS gets
// from package os; operations it does with raw system calls (locks, access)
// get a bare errno instead.
var osOpNames = map[Op]string{
	OpOpen:     "open",
	OpRead:     "read",
	OpWrite:    "write",
	OpSync:     "sync",
	OpTruncate: "truncate",
	OpSize:     "stat",
	OpDelete:   "remove",
}

// The default errors are left untagged, so that errors.As and errors.Is see
// through them, wherever SQLite's own default for the call is already the
// right code: CANTOPEN for open, IOERR_READ for read, and so on. Only
// xFileSize defaults to IOERR_SEEK, where a failed fstat should read
// IOERR_FSTAT, so size is tagged.
var sqliteCodes = map[Op]sqlite3.ExtendedErrorCode{
	OpSize: sqlite3.IOERR_FSTAT,
}

// injectedError builds the error a rule injects on one call.
func injectedError(r *rule, op Op, kind Kind, path string) error {
	if r.Err != nil {
		return r.Err
	}
	var cause error = syscall.EIO
	if name, ok := osOpNames[op]; ok {
		cause = &os.PathError{Op: name, Path: path, Err: syscall.EIO}
	}
	err := &InjectedError{Rule: r.Name, Op: op, Kind: kind, Path: path, Err: cause}
	if kind == KindSidecar {
		// walguard does sidecar I/O with package os: no SQLite code.
		return err
	}
	if code, ok := sqliteCodes[op]; ok {
		return vfs.SystemError(err, code)
	}
	return err
}
