package ext_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/lockcheck"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

func init() { roles["holder"] = holder }

// holder is a Go participant (ncruces + walguard) that opens WG_DB, reads
// it, prints "ready" and keeps its connection (and its slot) until its
// stdin closes.
func holder() {
	c, err := sqlite3.Open("file:" + os.Getenv("WG_DB") + "?vfs=" + walguard.VFSName)
	if err != nil {
		fmt.Println("fatal", err)
		os.Exit(1)
	}
	if err := c.Exec("SELECT count(*) FROM t"); err != nil {
		fmt.Println("fatal", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	testproc.WaitForEOF()
	c.Close()
}

// An interrupted switch is resolved by a C participant (vfs/switch.go
// resolveInterrupted, docs/protocol.md "Interrupted switches"): the record
// holds a switch intent of a Go process's slot (written as its switch
// would have). While that process lives, python3 with libwalguard reading
// the database leaves the intent alone; once it is killed, the first
// header read under a lock settles it from the header: "never reached the
// header" (the header still shows the family switched from, whose default
// mode the record takes) or "completed" (the header shows the new family).
// walguard check reports the interrupted switch before, and not after.
func TestInterruptedSwitchResolvedByC(t *testing.T) {
	needLib(t)
	py := debianPython(t)
	for _, tc := range []struct {
		name         string
		start        string        // the database's journal mode
		from, to     policy.Family // the crafted switch
		family       policy.Family // the record's family once resolved: the header's
		mode, detail string
	}{
		{"never reached the header", "delete", policy.FamilyRollback, policy.FamilyWAL, policy.FamilyRollback, "delete", "never reached the header"},
		{"completed", "wal", policy.FamilyRollback, policy.FamilyWAL, policy.FamilyWAL, "wal", "completed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "app.db")
			prepareDB(t, db, "PRAGMA journal_mode="+tc.start+"; CREATE TABLE t(x); INSERT INTO t VALUES(1)")

			switcher := testproc.Start(t, os.Args[0], "holder", "WG_DB="+db)
			switcher.Expect("ready")
			slot := -1
			st, err := sidecar.ReadStatus(db)
			if err != nil {
				t.Fatal(err)
			}
			var host string
			for _, p := range st.Participants {
				if p.Entry != nil && p.Entry.PID == uint32(switcher.Pid()) {
					slot, host = p.Slot, p.Entry.Host
				}
			}
			if slot < 0 {
				t.Fatalf("the Go participant pid %d holds no slot: %+v", switcher.Pid(), st.Participants)
			}
			craftIntent(t, db, sidecar.Record{Family: tc.to, Mode: policy.ModeWAL, Protocol: policy.ProtocolOFD,
				Reason: policy.ReasonPragma, SetterPID: uint32(switcher.Pid()), SetAt: time.Now(), Host: host,
				Program: "switcher", Detail: "switch from " + tc.from.String() + " to " + tc.to.String(),
				Switch: sidecar.SwitchIntent{Pending: true, From: tc.from, Slot: slot}})

			read := func() string {
				cmd := exec.Command(py, "-c", fmt.Sprintf(`import sqlite3
m = sqlite3.connect(":memory:")
m.enable_load_extension(True)
m.load_extension(%q)
c = sqlite3.connect("file:%s?vfs=walguard", uri=True)
print("rows", c.execute("SELECT count(*) FROM t").fetchone()[0])
c.close()
`, strings.TrimSuffix(libPath, ".so"), db))
				return strings.TrimSpace(run(t, cmd))
			}
			if out := read(); out != "rows 1" {
				t.Fatalf("python3 while the switcher lives: %s", out)
			}
			if r := record(t, db); !r.Switch.Pending || r.Switch.Slot != slot || r.Family != tc.to {
				t.Fatalf("a C reader touched the intent of a live switcher: %v", r)
			}

			switcher.Kill()
			if !hasHazard(t, db, lockcheck.HazardInterruptedSwitch) {
				t.Fatal("walguard check does not report the interrupted switch: the test proves nothing")
			}
			if out := read(); out != "rows 1" {
				t.Fatalf("python3 after the switcher died: %s", out)
			}
			r := record(t, db)
			want := fmt.Sprintf("switch to %s by switcher pid %d interrupted; %s", tc.to, switcher.Pid(), tc.detail)
			if r.Switch.Pending || r.Family != tc.family || r.Mode.String() != tc.mode || r.Reason != policy.ReasonRecovered ||
				r.Detail != want || r.Program != "python3" {
				t.Fatalf("record after python3's read: %v (detail %q); want %s, mode %s, %q, set by python3, intent cleared",
					r, r.Detail, tc.family, tc.mode, want)
			}
			if hasHazard(t, db, lockcheck.HazardInterruptedSwitch) {
				t.Fatal("walguard check still reports the interrupted switch")
			}
			if got := policy.FamilyOfHeader(sqltest.HeaderFamily(t, db), sqltest.HeaderFamily(t, db)); got != tc.family {
				t.Fatalf("header %s, want %s", got, tc.family)
			}
			t.Logf("resolved by python3: %v (%s)", r, r.Detail)
		})
	}
}

// craftIntent writes rec as the record of db's sidecar, under the
// agreement byte, as a switcher would have at its header write.
func craftIntent(t *testing.T, db string, rec sidecar.Record) {
	t.Helper()
	s, err := sidecar.OpenSidecar(db, sidecar.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.LockAgreement(time.Second); err != nil {
		t.Fatal(err)
	}
	defer s.UnlockAgreement()
	old, err := s.ReadRecord()
	if err != nil {
		t.Fatal(err)
	}
	rec.Generation = old.Generation + 1
	if err := s.WriteRecord(rec); err != nil {
		t.Fatal(err)
	}
}

// record reads db's sidecar record.
func record(t *testing.T, db string) sidecar.Record {
	t.Helper()
	st, err := sidecar.ReadStatus(db)
	if err != nil || st.Record == nil {
		t.Fatalf("sidecar of %s: %v %s", db, err, st.RecordError)
	}
	return *st.Record
}

// hasHazard reports whether walguard check (lockcheck.Inspect, what
// "walguard check -json" prints) finds hazard code on db.
func hasHazard(t *testing.T, db, code string) bool {
	t.Helper()
	rep, err := lockcheck.Inspect(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range rep.Hazards {
		if h.Code == code {
			return true
		}
	}
	return false
}

// A C switcher killed at every write of its switch (python3 with the test
// build: WG_FAULT_KILL_AT SIGKILLs it at its Nth database, journal or WAL
// write, sync, truncate or delete, during journal_mode=wal on a rollback
// database): walguard check names the interrupted switch (never a foreign
// flip); the next C connection (python3 with libwalguard) rolls the hot
// journal back or resolves the intent from the header, so the record
// follows the header with no intent left; then a Go connection under the
// strictest policy (foreign flips refused) finds integrity ok, every row,
// and counts no foreign flip and no refusal.
func TestCSwitchKilledAtEveryWrite(t *testing.T) {
	needLib(t)
	py := debianPython(t)
	lib := strings.TrimSuffix(faultLib(t), ".so")
	prologue := fmt.Sprintf(`import sqlite3
m = sqlite3.connect(":memory:")
m.enable_load_extension(True)
m.load_extension(%q)
c = sqlite3.connect("file:app.db?vfs=walguard", uri=True, timeout=5)
`, lib)
	interrupted := 0
	for at := 1; ; at++ {
		if at > 50 {
			t.Fatal("the switch did not finish within 50 writes")
		}
		dir := t.TempDir()
		db := filepath.Join(dir, "app.db")
		prepareDB(t, db, "PRAGMA journal_mode=delete; CREATE TABLE t(x); INSERT INTO t VALUES(1), (2)")

		cmd := exec.Command(py, "-c", prologue+`c.execute("SELECT count(*) FROM t").fetchall()
print("wal", c.execute("PRAGMA journal_mode=wal").fetchone()[0], flush=True)
c.close()
print("done", flush=True)
`)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), fmt.Sprint("WG_FAULT_KILL_AT=", at))
		b, err := cmd.CombinedOutput()
		out := strings.TrimSpace(string(b))
		finished := err == nil && strings.HasSuffix(out, "done")
		if !finished && !strings.Contains(out, "killing at") {
			t.Fatalf("kill at %d: python3 failed: %v\n%s", at, err, out)
		}
		if hasHazard(t, db, lockcheck.HazardFamilyMismatch) {
			t.Fatalf("kill at %d (%s): walguard check blames a foreign flip", at, out)
		}
		if hasHazard(t, db, lockcheck.HazardInterruptedSwitch) {
			interrupted++
		}

		reader := exec.Command(py, "-c", prologue+`print("rows", c.execute("SELECT count(*) FROM t").fetchone()[0])
print("status", c.execute("PRAGMA walguard_status").fetchone()[0])
`)
		reader.Dir = dir
		rout := run(t, reader)
		if !strings.Contains(rout, "rows 2\n") || !strings.Contains(rout, `"foreign_flips":0`) || strings.Contains(rout, `"last_refusal"`) {
			t.Fatalf("kill at %d (%s): the next C connection:\n%s", at, out, rout)
		}
		header := policy.FamilyOfHeader(sqltest.HeaderFamily(t, db), sqltest.HeaderFamily(t, db))
		r := record(t, db)
		if r.Switch.Pending || r.Family != header {
			t.Fatalf("kill at %d (%s): record %v after the next C connection, header %s; want the intent resolved to the header", at, out, r, header)
		}

		strict := policy.Default()
		strict.ForeignFlip = policy.FlipRefuse
		g := wgvfs.New(wgvfs.Options{Policy: &strict})
		c := sqltest.Open(t, sqltest.DSN(db, sqltest.Register(t, g)))
		if got := sqltest.Query(t, c, "PRAGMA integrity_check"); got != "ok" {
			t.Fatalf("kill at %d (%s): integrity %s", at, out, got)
		}
		if got := sqltest.Query(t, c, "SELECT count(*) FROM t"); got != "2" {
			t.Fatalf("kill at %d (%s): %s rows, want 2", at, out, got)
		}
		if s := g.Stats(); s.ForeignFlips != 0 || len(s.Refusals) != 0 {
			t.Fatalf("kill at %d (%s): Go stats %+v", at, out, s)
		}
		c.Close()
		t.Logf("kill at %d: %s; record after the next C connection: %v", at, strings.ReplaceAll(out, "\n", " | "), r)
		if finished {
			if header != policy.FamilyWAL {
				t.Fatalf("the switch that ran to its end left header %s", header)
			}
			break
		}
	}
	if interrupted == 0 {
		t.Fatal("no kill left an interrupted switch for check to report: the test proves nothing")
	}
}
