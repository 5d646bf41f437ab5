package ext_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walguard/walguard/policy"
)

// The settle rule in libwalguard (docs/protocol.md "The settle rule", Go's
// lockFaultLasts and settleRollback): taking SHARED fails with ENOLCK (the
// test build's fault VFS, under walguard). When the error lasts on three
// fresh descriptors of a rollback database, the record settles rollback
// (deterministic incompatibility, the evidence in its detail), the caller
// gets the original error, and a later connection without the fault is
// refused WAL. When it does not last (one failure), it is refused as a
// transient fault (SQLITE_BUSY), the busy handler retries, the read
// succeeds and the record is unchanged. Under a WAL header a lasting
// error never settles anything.
func TestSettleRule(t *testing.T) {
	needLib(t)
	py := debianPython(t)
	lib := strings.TrimSuffix(faultLib(t), ".so")
	for _, tc := range []struct {
		name, mode, faults string
		read               string // what python3's SELECT printed
		settled            bool
	}{
		{"lasting on rollback", "delete", "-1", "error disk I/O error", true},
		{"once on rollback", "delete", "1", "rows 1", false},
		{"lasting under a WAL header", "wal", "-1", "error disk I/O error", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "app.db")
			prepareDB(t, db, "PRAGMA journal_mode="+tc.mode+"; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
			before := record(t, db)

			cmd := exec.Command(py, "-c", fmt.Sprintf(`import sqlite3
m = sqlite3.connect(":memory:")
m.enable_load_extension(True)
m.load_extension(%q)
c = sqlite3.connect("file:app.db?vfs=walguard", uri=True, timeout=2)
try:
    print("rows", c.execute("SELECT count(*) FROM t").fetchone()[0])
except sqlite3.Error as e:
    print("error", e)
print("status", c.execute("PRAGMA walguard_status").fetchone()[0])
`, lib))
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "WG_FAULT_LOCK_ENOLCK="+tc.faults)
			out := run(t, cmd)
			read, raw, _ := strings.Cut(out, "status ")
			var st struct {
				LastRefusal *struct{ Reason, Message string } `json:"last_refusal"`
				Stats       struct{ Settled int }             `json:"stats"`
			}
			if err := json.Unmarshal([]byte(raw), &st); err != nil {
				t.Fatalf("status: %v\n%s", err, out)
			}
			if strings.TrimSpace(read) != tc.read {
				t.Fatalf("python3's read: %q, want %q\n%s", strings.TrimSpace(read), tc.read, out)
			}
			r := record(t, db)
			if !tc.settled {
				if r.Family != before.Family || r.Reason != before.Reason || r.Generation != before.Generation || st.Stats.Settled != 0 {
					t.Fatalf("record %v (was %v), settled %d: an error that must not settle changed the record", r, before, st.Stats.Settled)
				}
				if tc.faults == "1" && (st.LastRefusal == nil || st.LastRefusal.Reason != "transient fault" ||
					!strings.Contains(st.LastRefusal.Message, "did not last (probe 1 of 3 on a fresh descriptor")) {
					t.Fatalf("last refusal %+v, want a transient fault that did not last", st.LastRefusal)
				}
				t.Logf("record kept: %v; last refusal %+v", r, st.LastRefusal)
				return
			}
			if r.Family != policy.FamilyRollback || r.Mode != policy.ModeDelete || r.Reason != policy.ReasonIncompatible ||
				!strings.Contains(r.Detail, "No locks available; again on 3 fresh descriptors over") || st.Stats.Settled != 1 {
				t.Fatalf("record %v (detail %q), settled %d; want rollback settled for a deterministic incompatibility", r, r.Detail, st.Stats.Settled)
			}
			// The settled record is honoured: WAL is refused without the fault.
			cmd = exec.Command(py, "-c", fmt.Sprintf(`import sqlite3
m = sqlite3.connect(":memory:")
m.enable_load_extension(True)
m.load_extension(%q)
c = sqlite3.connect("file:app.db?vfs=walguard", uri=True)
try:
    print("wal", c.execute("PRAGMA journal_mode=wal").fetchone()[0])
except sqlite3.Error as e:
    print("refused", e)
`, lib))
			cmd.Dir = dir
			if out := run(t, cmd); !strings.Contains(out, "refused walguard refused journal_mode=wal") || !strings.Contains(out, "WAL not supported here") {
				t.Fatalf("journal_mode=wal after the settle: %s", out)
			}
			t.Logf("settled: %v (%s)", r, r.Detail)
		})
	}
}
