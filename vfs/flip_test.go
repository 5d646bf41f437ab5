package vfs_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/walguard/walguard/policy"
	wgvfs "github.com/walguard/walguard/vfs"
)

// A journal-mode flip made by a real client that does not use walguard
// (the sqlite3 CLI) is noticed, on open and on the page-1 reads SQLite
// already does, and the record follows it as the default policy says.
func TestForeignFlipNoticed(t *testing.T) {
	cli, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Fatal("the sqlite3 CLI is needed for this interop test; .ci/run installs it")
	}
	name, g := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	c := openConn(t, dsn(path, name))
	mustExec(t, c, "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	c.Close()

	if out, err := exec.Command(cli, path, "PRAGMA journal_mode=delete;").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "delete" {
		t.Fatalf("sqlite3 CLI: %v %s", err, out)
	}
	c = openConn(t, dsn(path, name))
	mustExec(t, c, "INSERT INTO t VALUES(2)") // a rollback write: this connection now holds the rollback family
	if g.Stats().ForeignFlips != 1 {
		t.Fatalf("foreign flips %d after the CLI's downgrade, want 1", g.Stats().ForeignFlips)
	}
	st, _ := g.Status(path)
	if st.Sidecar.Record.Family != policy.FamilyRollback || st.Sidecar.Record.Reason != policy.ReasonForeignFlip {
		t.Fatalf("record %+v, want rollback adopted from a foreign flip", st.Sidecar.Record)
	}

	// Now a flip while this connection stays open, idle between transactions.
	if out, err := exec.Command(cli, path, "PRAGMA journal_mode=wal;").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "wal" {
		t.Fatalf("sqlite3 CLI: %v %s", err, out)
	}
	if got := mustQuery(t, c, "SELECT count(*) FROM t"); got != "2" {
		t.Fatalf("count = %s", got)
	}
	if g.Stats().ForeignFlips != 2 {
		t.Fatalf("foreign flips %d after the CLI's upgrade, want 2", g.Stats().ForeignFlips)
	}
	mustExec(t, c, "INSERT INTO t VALUES(3)")
	if got := mustQuery(t, c, "PRAGMA journal_mode"); got != "wal" {
		t.Fatalf("journal_mode %s, want wal: the connection followed the header", got)
	}
}
