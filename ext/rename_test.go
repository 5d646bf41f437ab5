package ext_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// renamedWriter is a python3 participant through libwalguard: it opens
// app.db in WAL, inserts a row and prints "ready", then for every line
// inserts one more row and checkpoints (its commits reach the file even
// though SQLite skips the checkpoint at close once the file has moved),
// printing "ack N".
const renamedWriter = `
import sqlite3, sys
m = sqlite3.connect(":memory:")
m.enable_load_extension(True)
m.load_extension(sys.argv[1])
c = sqlite3.connect("file:app.db?vfs=walguard", uri=True, isolation_level=None, timeout=5)
c.execute("INSERT INTO t VALUES('renamed', 0)")
print("ready", flush=True)
i = 0
for line in sys.stdin:
    if line.strip() == "":
        break
    i += 1
    c.execute("INSERT INTO t VALUES('renamed', ?)", (i,))
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print("ack", i, flush=True)
c.close()
`

// newcomer runs python3 once on name through libwalguard without waiting
// (timeout 0): each statement prints "ok <first column>" or "error <message>",
// then the database's walguard_status.
const newcomer = `
import sqlite3, sys
m = sqlite3.connect(":memory:")
m.enable_load_extension(True)
m.load_extension(sys.argv[1])
c = sqlite3.connect("file:%s?vfs=walguard" % sys.argv[2], uri=True, isolation_level=None, timeout=0)
for q in sys.argv[3:]:
    try:
        r = c.execute(q).fetchone()
        print("ok", r[0] if r else "")
    except sqlite3.Error as e:
        print("error", e)
print("status", c.execute("PRAGMA walguard_status").fetchone()[0])
`

// Invariant 9, a second name, in libwalguard (the root's
// TestWALDatabaseRenamedWhileOpen): a WAL database renamed (or linked
// under a new name and unlinked from the old one) while a python3 writer
// has it open. A connection through the new name, with a -wal and -shm of
// its own, would read without the writer's commits and append to a second
// WAL of the same file; its WAL join is refused (retryable) while the
// writer is live, and once it has closed every acknowledged row is there.
func TestWALDatabaseRenamedWhileOpen(t *testing.T) {
	needLib(t)
	py := debianPython(t)
	lib := strings.TrimSuffix(libPath, ".so")
	for _, how := range []string{"rename", "link and unlink"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			old, renamed := filepath.Join(dir, "app.db"), filepath.Join(dir, "renamed.db")
			newcomerRun(t, py, lib, old, "PRAGMA journal_mode=wal", "CREATE TABLE t(writer, n)")
			writer := startClient(t, dir, "", py, "-c", renamedWriter, lib)
			if how == "rename" {
				if err := os.Rename(old, renamed); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := os.Link(old, renamed); err != nil {
					t.Fatal(err)
				}
				if err := os.Remove(old); err != nil {
					t.Fatal(err)
				}
			}

			lines, st := newcomerRun(t, py, lib, renamed, "SELECT count(*) FROM t", "INSERT INTO t VALUES('new name', 1)")
			for i, l := range lines {
				if !strings.HasPrefix(l, "error ") {
					t.Fatalf("statement %d through the new name beside a live WAL writer through the old one: %s", i, l)
				}
			}
			if st.LastRefusal.Reason != "journal family mismatch" || !st.LastRefusal.Retryable {
				t.Fatalf("last refusal %+v; want a retryable journal family mismatch", st.LastRefusal)
			}
			if !strings.Contains(st.LastRefusal.Message, "through another name") {
				t.Fatalf("last refusal %+v does not say why", st.LastRefusal)
			}

			writer.send("go\n")
			writer.expect(t, "ack 1")
			writer.send("\n")
			if err := writer.cmd.Wait(); err != nil {
				t.Fatalf("writer: %v\n%s", err, writer.stderr.String())
			}
			lines, _ = newcomerRun(t, py, lib, renamed, "INSERT INTO t VALUES('new name', 1)",
				"SELECT count(*) FROM t WHERE writer = 'renamed'", "PRAGMA integrity_check")
			if want := []string{"ok ", "ok 2", "ok ok"}; strings.Join(lines, "|") != strings.Join(want, "|") {
				t.Fatalf("through the new name after the writer closed: %q, want %q", lines, want)
			}
		})
	}
}

// newcomerStatus is the part of walguard_status the rename test reads.
type newcomerStatus struct {
	LastRefusal struct {
		Reason    string `json:"reason"`
		Message   string `json:"message"`
		Retryable bool   `json:"retryable"`
	} `json:"last_refusal"`
}

// newcomerRun runs the newcomer program on db with the statements, and
// returns one line per statement and the status it printed.
func newcomerRun(t *testing.T, py, lib, db string, stmts ...string) ([]string, newcomerStatus) {
	t.Helper()
	out := run(t, exec.Command(py, append([]string{"-c", newcomer, lib, db}, stmts...)...))
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	var st newcomerStatus
	if n := len(lines); n != len(stmts)+1 || !strings.HasPrefix(lines[n-1], "status ") {
		t.Fatalf("python on %s: %q", db, out)
	} else if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[n-1], "status ")), &st); err != nil {
		t.Fatalf("walguard_status of %s: %v\n%s", db, err, out)
	}
	return lines[:len(stmts)], st
}
