package vfs

import (
	"errors"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/errclass"
)

// toSQLite is the one place where walguard's errors become what SQLite
// sees: every method SQLite calls that can refuse returns through it.
//
// A refusal that retrying can fix (a mismatch, a transient fault) becomes
// SQLITE_BUSY, so that busy handlers and retry loops wait for the other
// participants or for the fault to pass. One that retrying cannot fix
// becomes final, the code of the call it answers (SQLITE_CANTOPEN for an
// open, SQLITE_ERROR for a pragma, SQLITE_IOERR otherwise), a code under
// which the driver keeps the refusal's text and errors.As finds it. Any
// other error passes as it is.
func toSQLite(err error, final sqlite3.ErrorCode) error {
	e, ok := err.(*RefusalError)
	if !ok {
		return err
	}
	if e.Retryable() {
		return vfs.SystemError(e, sqlite3.BUSY)
	}
	return vfs.SystemError(e, final)
}

// waitable reports whether err is a refusal that toSQLite turns into
// SQLITE_BUSY: one a later attempt of the same connection may pass.
func waitable(err error) bool {
	e, ok := err.(*RefusalError)
	return ok && e.Retryable()
}

// isBusy reports whether err is an SQLITE_BUSY code, in any of the forms
// the ncruces VFS layer uses (its own unexported code type, SystemError).
func isBusy(err error) bool {
	if errors.Is(err, sqlite3.BUSY) {
		return true
	}
	c, ok := errclass.Code(err)
	return ok && c.Code() == sqlite3.BUSY
}
