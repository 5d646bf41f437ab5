package faultvfs_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/faultvfs"
)

var vfsCounter atomic.Int64

// register registers a fresh faultvfs over the os VFS under a name unique
// to the test, and returns it with the name.
func register(t testing.TB, seed int64) (*faultvfs.VFS, string) {
	t.Helper()
	fv := faultvfs.New(vfs.Find("os"), seed)
	name := fmt.Sprintf("faultvfs-test-%d", vfsCounter.Add(1))
	vfs.Register(name, fv)
	t.Cleanup(func() { vfs.Unregister(name) })
	return fv, name
}

// tempDB returns a database path in a fresh directory, symbolic links
// resolved, as SQLite names it.
func tempDB(t testing.TB) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "app.db")
}

func dsn(path, vfsName string, params ...string) string {
	s := "file:" + filepath.ToSlash(path) + "?vfs=" + vfsName
	if len(params) > 0 {
		s += "&" + strings.Join(params, "&")
	}
	return s
}
