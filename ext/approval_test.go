package ext_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walguard/walguard/internal/sqltest"
)

// A journal_mode approval is of one change of family, from the header as
// it was decided (vfs TestEmptyJournalModeAfterAnOldRollbackApproval): in
// libwalguard, PRAGMA app.journal_mode=delete on a rollback database
// approves nothing, so once another connection has switched the database
// to WAL, an unqualified PRAGMA journal_mode=delete (which SQLite decides
// with the main database's file only, then applies to every attached one)
// must meet the header-write gate instead of leaving WAL for that old
// approval.
func TestOldApprovalDoesNotLeaveWAL(t *testing.T) {
	out, app, refusal := attachedLeave(t, `
e = conn("app.db")
e.execute("PRAGMA journal_mode=delete")
e.execute("CREATE TABLE t(x)")
e.close()
c = conn("other.db")
c.execute("ATTACH 'file:%s/app.db?vfs=walguard' AS app" % dir)
print("app kept", c.execute("PRAGMA app.journal_mode=delete").fetchone()[0])
d = conn("app.db")
print("d", d.execute("PRAGMA journal_mode=wal").fetchone()[0])
d.execute("INSERT INTO t VALUES(1)")
d.close()
`)
	t.Logf("python:\n%s", out)
	if !strings.Contains(out, "d wal\n") || !strings.Contains(out, "rows 1\n") {
		t.Fatalf("the setup did not switch app.db to WAL:\n%s", out)
	}
	if got := sqltest.HeaderFamily(t, app); got != 2 {
		t.Fatalf("header family byte %d after an unqualified journal_mode=delete, want 2 (WAL): left WAL for an approval that kept the family\n%s", got, out)
	}
	if !strings.Contains(out, "refused ") {
		t.Fatalf("the unqualified journal_mode=delete was not refused:\n%s", out)
	}
	if refusal.Reason != "leaving WAL is deliberate" {
		t.Fatalf("app.db's last refusal %+v, want leaving WAL is deliberate\n%s", refusal, out)
	}
}

// Invariant 4 for a leave of WAL that no pragma of the file approved: an
// attached database left by an unqualified PRAGMA journal_mode=delete
// (the value reaches only the main database's file) is refused at the
// rollback join, SQLite's RESERVED lock ("begin write"), before its
// -journal is opened or written, not at the header write after the
// journal holds page 1 (vfs TestEmptyJournalModeLeavingWALRefusedBeforeTheJournal).
func TestUnapprovedLeaveRefusedAtTheRollbackJoin(t *testing.T) {
	out, app, refusal := attachedLeave(t, `
e = conn("app.db")
print("e", e.execute("PRAGMA journal_mode=wal").fetchone()[0])
e.execute("CREATE TABLE t(x)")
e.execute("INSERT INTO t VALUES(1)")
e.close()
c = conn("other.db")
c.execute("ATTACH 'file:%s/app.db?vfs=walguard' AS app" % dir)
`)
	if !strings.Contains(out, "e wal\n") || !strings.Contains(out, "rows 1\n") {
		t.Fatalf("the setup did not put app.db in WAL:\n%s", out)
	}
	if got := sqltest.HeaderFamily(t, app); got != 2 {
		t.Fatalf("header family byte %d after an unqualified journal_mode=delete, want 2 (WAL)\n%s", got, out)
	}
	if !strings.Contains(out, "refused ") || refusal.Reason != "leaving WAL is deliberate" || refusal.Op != "begin write" {
		t.Fatalf("app.db's last refusal %+v, want leaving WAL is deliberate at begin write (the rollback join, before the -journal)\n%s", refusal, out)
	}
}

// attachedLeave runs script in Debian's python3 with libwalguard loaded,
// where conn(name) opens a database of a fresh directory through walguard,
// then, on the script's connection c (which attaches app.db as app), an
// unqualified PRAGMA journal_mode=delete. It returns what python printed,
// app.db's path and app.db's last refusal from its walguard_status.
func attachedLeave(t *testing.T, script string) (out, app string, refusal struct{ Op, Reason string }) {
	t.Helper()
	needLib(t)
	dir := t.TempDir()
	app = filepath.Join(dir, "app.db")
	prologue := fmt.Sprintf(`import sqlite3
lib, dir = %q, %q
m = sqlite3.connect(":memory:")
m.enable_load_extension(True)
m.load_extension(lib)
def conn(name):
    return sqlite3.connect("file:%%s/%%s?vfs=walguard" %% (dir, name), uri=True, isolation_level=None)
`, strings.TrimSuffix(libPath, ".so"), dir)
	const leave = `print("rows", c.execute("SELECT count(*) FROM app.t").fetchone()[0])
try:
    print("unqualified", c.execute("PRAGMA journal_mode=delete").fetchone()[0])
except sqlite3.Error as e:
    print("refused", e)
print("status", c.execute("PRAGMA app.walguard_status").fetchone()[0])
`
	out = run(t, exec.Command(debianPython(t), "-c", prologue+script+leave))
	_, raw, _ := strings.Cut(out, "status ")
	var st struct {
		LastRefusal struct{ Op, Reason string } `json:"last_refusal"`
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		t.Fatalf("app.db's walguard_status: %v\n%s", err, out)
	}
	return out, app, st.LastRefusal
}
