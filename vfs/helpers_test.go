package vfs_test

import (
	"testing"

	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/faultvfs"
	"github.com/walguard/walguard/internal/sqlrow"
	"github.com/walguard/walguard/internal/sqltest"
	wgvfs "github.com/walguard/walguard/vfs"
)

// The helpers every test here uses, under their short local names.
var (
	tempDB           = sqltest.TempDB
	dsn              = sqltest.DSN
	headerFamilyByte = sqltest.HeaderFamily
	mustExec         = sqltest.Exec
	queryText        = sqlrow.Text
	mustQuery        = sqltest.Query
	openConn         = sqltest.OpenWaiting
)

// registerTestVFS registers a guarded VFS under a name unique to the test,
// so its counters start at zero.
func registerTestVFS(t testing.TB, opts wgvfs.Options) (string, *wgvfs.VFS) {
	t.Helper()
	g := wgvfs.New(opts)
	return sqltest.Register(t, g), g
}

// createTable creates table t(writer, seq) in journal mode mode, through a
// guarded VFS of its own, and closes the connection.
func createTable(t testing.TB, path, mode string) {
	t.Helper()
	name, _ := registerTestVFS(t, wgvfs.Options{})
	c := openConn(t, dsn(path, name))
	mustQuery(t, c, "PRAGMA journal_mode="+mode)
	mustExec(t, c, "CREATE TABLE t(writer TEXT, seq INT)")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// walDatabase creates a WAL database with one row, without walguard.
func walDatabase(t *testing.T) string {
	t.Helper()
	path := tempDB(t)
	c := openConn(t, dsn(path, "os"))
	mustExec(t, c, "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	c.Close()
	return path
}

// faultyPair registers a faultvfs over os twice: plainly (to show what an
// application sees without walguard) and under walguard.
func faultyPair(t *testing.T, seed int64) (fv *faultvfs.VFS, plain, guarded string, g *wgvfs.VFS) {
	t.Helper()
	fv = faultvfs.New(vfs.Find("os"), seed)
	plain = sqltest.Register(t, fv)
	guarded, g = registerTestVFS(t, wgvfs.Options{Base: fv, SidecarHook: fv.SidecarHook()})
	return fv, plain, guarded, g
}

// settledWAL is faultyPair with a WAL database whose record a guarded
// connection has settled, and no fault injected yet.
func settledWAL(t *testing.T, seed int64) (fv *faultvfs.VFS, guarded string, g *wgvfs.VFS, path string) {
	t.Helper()
	fv, _, guarded, g = faultyPair(t, seed)
	path = walDatabase(t)
	c := openConn(t, dsn(path, guarded))
	mustQuery(t, c, "SELECT x FROM t")
	c.Close()
	return fv, guarded, g, path
}
