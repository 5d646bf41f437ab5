package bench

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	_ "github.com/walguard/walguard" // registers the VFS "walguard"
	"github.com/walguard/walguard/internal/sqlrow"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
)

func TestMain(m *testing.M) {
	testproc.Dispatch(childRoles)
	os.Exit(testproc.RunInPrivateTemp(m.Run))
}

// Environment variables the benchmarks read; see the package doc.
const (
	envDir      = "WALGUARD_BENCH_DIR"
	envSyncDir  = "WALGUARD_BENCH_SYNC_DIR"
	envReverse  = "WALGUARD_BENCH_REVERSE"
	envPairedAA = "WALGUARD_BENCH_PAIRED_AA"
)

// vfsNames lists the VFSes every workload runs on. run.sh reverses the
// order on every other run, so that neither always runs first.
func vfsNames() []string {
	names := []string{"os", "walguard"}
	if os.Getenv(envReverse) == "1" {
		slices.Reverse(names)
	}
	return names
}

// forEachVFS runs fn as the sub-benchmarks vfs=os and vfs=walguard.
func forEachVFS(b *testing.B, fn func(b *testing.B, vfsName string)) {
	for _, name := range vfsNames() {
		b.Run("vfs="+name, func(b *testing.B) {
			b.ReportAllocs()
			fn(b, name)
		})
	}
}

// journal is how a workload's database journals and syncs.
type journal struct {
	name    string // the mode= part of a benchmark's name
	mode    string // PRAGMA journal_mode, as SQLite answers it
	sync    string // PRAGMA synchronous, set on every connection
	fsyncs  bool   // fsync dominates: the database goes on WALGUARD_BENCH_SYNC_DIR
	pragmas []string
}

var (
	walNormal = journal{name: "wal-normal", mode: "wal", sync: "normal"}
	rollback  = journal{name: "delete", mode: "delete", sync: "full", fsyncs: true}
)

// benchDir returns a fresh directory for databases: under
// WALGUARD_BENCH_SYNC_DIR when fsyncs is set, else under WALGUARD_BENCH_DIR,
// else a test temporary directory. It is removed at cleanup.
func benchDir(tb testing.TB, fsyncs bool) string {
	tb.Helper()
	root := os.Getenv(envDir)
	if fsyncs {
		root = os.Getenv(envSyncDir)
	}
	dir := ""
	if root == "" {
		dir = tb.TempDir()
	} else {
		var err error
		if dir, err = os.MkdirTemp(root, "walguard-bench-"); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { os.RemoveAll(dir) })
	}
	// SQLite names databases by their real path; so does walguard.
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

// dsn is the URI that opens the database at path on the named VFS.
func dsn(path, vfsName string) string {
	u := url.URL{Scheme: "file", Path: path, RawQuery: "vfs=" + url.QueryEscape(vfsName)}
	return u.String()
}

// open opens a connection with a busy timeout and j's per-connection
// pragmas; the caller closes it.
func open(path, vfsName string, j journal) (*sqlite3.Conn, error) {
	c, err := sqlite3.Open(dsn(path, vfsName))
	if err != nil {
		return nil, fmt.Errorf("open %s on %s: %w", path, vfsName, err)
	}
	if err := c.BusyTimeout(30 * time.Second); err != nil {
		c.Close()
		return nil, err
	}
	for _, p := range append([]string{"PRAGMA synchronous=" + j.sync}, j.pragmas...) {
		if err := c.Exec(p); err != nil {
			c.Close()
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return c, nil
}

// openConn opens a connection that cleanup closes.
func openConn(tb testing.TB, path, vfsName string, j journal) *sqlite3.Conn {
	tb.Helper()
	c, err := open(path, vfsName, j)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Error(err)
		}
	})
	return c
}

// schema is the table every workload uses: a rowid, a counter and 100
// bytes of payload, so that a page holds a few dozen rows.
const schema = "CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER NOT NULL, pad BLOB NOT NULL)"

// newDB creates a database in journal j with table t holding rows rows,
// and returns its path and an open connection to it.
func newDB(tb testing.TB, vfsName string, j journal, rows int) (string, *sqlite3.Conn) {
	tb.Helper()
	path := filepath.Join(benchDir(tb, j.fsyncs), "bench.db")
	c := openConn(tb, path, vfsName, j)
	if err := setJournal(c, j.mode); err != nil {
		tb.Fatal(err)
	}
	sqltest.Exec(tb, c, schema)
	if rows > 0 {
		if err := insertRows(c, rows); err != nil {
			tb.Fatal(err)
		}
	}
	return path, c
}

// setJournal sets the journal mode and checks SQLite's answer: a refused
// switch is not an error to SQLite, it just answers the old mode.
func setJournal(c *sqlite3.Conn, mode string) error {
	got, err := sqlrow.Text(c, "PRAGMA journal_mode="+mode)
	if err != nil {
		return fmt.Errorf("journal_mode=%s: %w", mode, err)
	}
	if got != mode {
		return fmt.Errorf("journal_mode=%s answered %q", mode, got)
	}
	return nil
}

// insertRows inserts rows rows with n = 1..rows in one transaction.
func insertRows(c *sqlite3.Conn, rows int) error {
	if err := c.Exec("BEGIN"); err != nil {
		return err
	}
	ins, _, err := c.Prepare(insertSQL)
	if err != nil {
		return err
	}
	defer ins.Close()
	for i := 1; i <= rows; i++ {
		if err := insertOne(ins, int64(i)); err != nil {
			c.Exec("ROLLBACK")
			return err
		}
	}
	return c.Exec("COMMIT")
}

const insertSQL = "INSERT INTO t(n, pad) VALUES(?, zeroblob(100))"

// insertOne runs the prepared insertSQL for counter n.
func insertOne(ins *sqlite3.Stmt, n int64) error {
	if err := ins.BindInt64(1, n); err != nil {
		return err
	}
	return ins.Exec()
}

// prepare prepares sql on c and closes the statement at cleanup.
func prepare(tb testing.TB, c *sqlite3.Conn, sql string) *sqlite3.Stmt {
	tb.Helper()
	stmt, _, err := c.Prepare(sql)
	if err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	tb.Cleanup(func() { stmt.Close() })
	return stmt
}
