package walguard_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

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

func openConn(t testing.TB, dsn string) *sqlite3.Conn {
	t.Helper()
	c, err := sqlite3.Open(dsn)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.BusyTimeout(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	return c
}

func mustExec(t testing.TB, c *sqlite3.Conn, sql string) {
	t.Helper()
	if err := c.Exec(sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// queryText runs a one-value query and returns its text.
func queryText(c *sqlite3.Conn, sql string) (string, error) {
	stmt, _, err := c.Prepare(sql)
	if err != nil {
		return "", err
	}
	defer stmt.Close()
	if !stmt.Step() {
		if err := stmt.Err(); err != nil {
			return "", err
		}
		return "", errors.New("no row")
	}
	return stmt.ColumnText(0), stmt.Err()
}

func mustQuery(t testing.TB, c *sqlite3.Conn, sql string) string {
	t.Helper()
	s, err := queryText(c, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

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

func contains(s, sub string) bool { return strings.Contains(s, sub) }
