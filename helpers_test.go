package walguard_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/internal/sqlrow"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
)

func TestMain(m *testing.M) {
	testproc.Dispatch(childRoles)
	os.Exit(m.Run())
}

// tempDB returns a database path in a fresh directory, as SQLite will name
// it (symbolic links resolved).
func tempDB(t testing.TB) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "app.db")
}

func dsn(path, vfsName string, params ...string) string {
	s := "file:" + path + "?vfs=" + vfsName
	for _, p := range params {
		s += "&" + p
	}
	return s
}

// openConn opens a connection that cleanup closes, with a busy timeout so
// that connections in one test wait for each other's locks.
func openConn(t testing.TB, dsn string) *sqlite3.Conn {
	t.Helper()
	c := sqltest.Open(t, dsn)
	if err := c.BusyTimeout(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	return c
}

// The SQL helpers every test here uses, under their short local names.
var (
	mustExec  = sqltest.Exec
	queryText = sqlrow.Text
	mustQuery = sqltest.Query
)

// headerFamilyByte reads byte 18 of the database header from disk.
func headerFamilyByte(t testing.TB, path string) byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 100 {
		t.Fatalf("%s: %d bytes, no header", path, len(b))
	}
	return b[18]
}
