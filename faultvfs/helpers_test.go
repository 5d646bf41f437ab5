package faultvfs_test

import (
	"testing"

	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/faultvfs"
	"github.com/walguard/walguard/internal/sqltest"
)

// register registers a fresh faultvfs over the os VFS under a name unique
// to the test, and returns it with the name.
func register(t testing.TB, seed int64) (*faultvfs.VFS, string) {
	t.Helper()
	fv := faultvfs.New(vfs.Find("os"), seed)
	return fv, sqltest.Register(t, fv)
}

// The file helpers every test here uses, under their short local names.
var (
	tempDB = sqltest.TempDB
	dsn    = sqltest.DSN
)
