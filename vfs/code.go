package vfs

import (
	"errors"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/errclass"
)

// isBusy reports whether err is an SQLITE_BUSY code, in any of the forms
// the ncruces VFS layer uses (its own unexported code type, SystemError).
func isBusy(err error) bool {
	if errors.Is(err, sqlite3.BUSY) {
		return true
	}
	c, ok := errclass.Code(err)
	return ok && c.Code() == sqlite3.BUSY
}
