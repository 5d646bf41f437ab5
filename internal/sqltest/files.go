package sqltest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ncruces/go-sqlite3/vfs"
)

// TempDB returns a database path in a fresh directory of tb's, as SQLite
// names it (symbolic links resolved).
func TempDB(tb testing.TB) string {
	tb.Helper()
	dir, err := filepath.EvalSymlinks(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(dir, "app.db")
}

// DSN returns the URI that opens path through the VFS named vfsName, with
// params ("key=value") added.
func DSN(path, vfsName string, params ...string) string {
	s := "file:" + filepath.ToSlash(path) + "?vfs=" + vfsName
	if len(params) > 0 {
		s += "&" + strings.Join(params, "&")
	}
	return s
}

var registered atomic.Int64

// Register registers v under a name unique to the test, unregisters it at
// tb's cleanup, and returns the name.
func Register(tb testing.TB, v vfs.VFS) string {
	tb.Helper()
	name := fmt.Sprintf("%s-%d", strings.NewReplacer("/", "-", " ", "-").Replace(tb.Name()), registered.Add(1))
	vfs.Register(name, v)
	tb.Cleanup(func() { vfs.Unregister(name) })
	return name
}

// HeaderFamily returns byte 18 of the database header on disk: 1 for the
// rollback journal, 2 for WAL.
func HeaderFamily(tb testing.TB, path string) byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(b) < 100 {
		tb.Fatalf("%s: %d bytes, no header", path, len(b))
	}
	return b[18]
}
