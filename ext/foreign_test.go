package ext_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/walguard/walguard/lockcheck"
	"github.com/walguard/walguard/sidecar"
)

// PRAGMA walguard_status in libwalguard lists the participants without
// walguard ("without_walguard", docs/status.md) as Go's Status does
// (lockcheck.Foreign, from /proc/locks): python3's own connection, a
// participant, is not listed; a plain sqlite3 CLI without the extension
// holding the database in WAL is, with its pid, command, protocol posix and
// its locks (db SHARED, shm DMS), and the list is the one Go computes for
// the same database at the same time.
func TestStatusListsParticipantsWithoutWalguard(t *testing.T) {
	needLib(t)
	py := debianPython(t)
	need(t, "sqlite3")
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	prepareDB(t, db, "PRAGMA journal_mode=wal; CREATE TABLE t(x)")

	script := fmt.Sprintf(`import sqlite3, sys
m = sqlite3.connect(":memory:")
m.enable_load_extension(True)
m.load_extension(%q)
c = sqlite3.connect("file:app.db?vfs=walguard", uri=True)
c.execute("SELECT count(*) FROM t").fetchall()
print("ready", flush=True)
for line in sys.stdin:
    print("status", c.execute("PRAGMA walguard_status").fetchone()[0], flush=True)
`, strings.TrimSuffix(libPath, ".so"))
	pyc := startClient(t, dir, "", py, "-u", "-c", script)
	status := func() []lockcheck.ForeignParticipant {
		t.Helper()
		pyc.send("status\n")
		line := pyc.expect(t, "status ")
		var st struct {
			Without []lockcheck.ForeignParticipant `json:"without_walguard"`
		}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "status ")), &st); err != nil || st.Without == nil {
			t.Fatalf("walguard_status without a without_walguard list (%v): %s", err, line)
		}
		return st.Without
	}
	if got := status(); len(got) != 0 {
		t.Fatalf("without_walguard %+v with only python3's walguard connection open, want []", got)
	}

	cli := startClient(t, dir, "PRAGMA journal_mode=wal;\nSELECT count(*) FROM t;\nSELECT 'ready';\n", "stdbuf", "-o0", "sqlite3", "app.db")
	got := status()
	want := []lockcheck.ForeignParticipant{{PID: cli.pid(), Command: "sqlite3", Protocol: "posix", Locks: []string{"db SHARED", "shm DMS"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("libwalguard's without_walguard %+v, want %+v", got, want)
	}
	side, err := sidecar.ReadStatus(db)
	if err != nil {
		t.Fatal(err)
	}
	goList, err := lockcheck.Foreign(db, side)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, goList) {
		t.Fatalf("libwalguard's without_walguard %+v, Go's %+v", got, goList)
	}
	t.Logf("without_walguard: %+v", got)
}
