package vfs_test

import (
	"os"
	"testing"

	wgvfs "github.com/walguard/walguard/vfs"
)

func TestTemporaryAndReadOnlyFilesPassThrough(t *testing.T) {
	name, g := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	c := openConn(t, dsn(path, name))
	mustExec(t, c, "CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	c.Close()
	before := g.Stats().PassThrough

	ro := openConn(t, dsn(path, name, "mode=ro"))
	if got := mustQuery(t, ro, "SELECT x FROM t"); got != "1" {
		t.Fatalf("read-only read = %s", got)
	}
	tmp := openConn(t, dsn(path, name))
	mustExec(t, tmp, "PRAGMA temp_store=file; CREATE TEMP TABLE tt AS SELECT * FROM t; INSERT INTO tt SELECT x+1 FROM tt")
	if got := mustQuery(t, tmp, "SELECT sum(x) FROM tt"); got != "3" {
		t.Fatalf("temp table sum = %s", got)
	}
	mem := openConn(t, "file:mem?mode=memory&vfs="+name)
	mustExec(t, mem, "CREATE TABLE m(x); INSERT INTO m VALUES(7)")
	if got := mustQuery(t, mem, "SELECT x FROM m"); got != "7" {
		t.Fatalf("memory db read = %s", got)
	}
	if g.Stats().PassThrough <= before {
		t.Fatalf("pass-through count %d did not grow from %d", g.Stats().PassThrough, before)
	}
	st, _ := g.Status(path)
	if len(st.Sidecar.Participants) != 1 {
		t.Fatalf("live participants %+v: the read-only connection must not join, the other must", st.Sidecar.Participants)
	}
}

// SQLite opens a leftover -journal read-only to see whether it is hot; a
// reader must not be taken for a rollback writer and locked out of WAL.
func TestLeftoverJournalNextToWALDoesNotLockOut(t *testing.T) {
	name, _ := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	a := openConn(t, dsn(path, name))
	mustExec(t, a, "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	if err := os.WriteFile(path+"-journal", make([]byte, 512), 0o644); err != nil {
		t.Fatal(err)
	}
	b := openConn(t, dsn(path, name))
	b.BusyTimeout(0)
	if got, err := queryText(b, "SELECT count(*) FROM t"); err != nil || got != "1" {
		t.Fatalf("reader beside a leftover journal: %q %v, want 1 row as on the os VFS", got, err)
	}
	mustExec(t, b, "INSERT INTO t VALUES(2)")
}
