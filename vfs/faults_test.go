package vfs_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/errclass"
	"github.com/walguard/walguard/faultvfs"
	"github.com/walguard/walguard/lockcheck"
	"github.com/walguard/walguard/policy"
	wgvfs "github.com/walguard/walguard/vfs"
)

// Measurements E2 and E3: three EIOs on opening -wal. On the os VFS the
// statement fails and the connection then claims journal_mode=delete on a
// WAL file; through walguard the faults are retried, and the application
// sees nothing.
func TestTransientWALOpenFaultsAreAbsorbed(t *testing.T) {
	fv, plain, guarded, g := faultyPair(t, 1)
	scenario := func(vfsName string) (*sqlite3.Conn, string, error) {
		path := tempDB(t)
		c := openConn(t, dsn(path, vfsName))
		if got := mustQuery(t, c, "PRAGMA journal_mode=wal"); got != "wal" {
			t.Fatalf("journal_mode=wal answered %s", got)
		}
		return c, path, c.Exec("CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	}

	fv.Add(faultvfs.Rule{Name: "once", Ops: faultvfs.OpOpen, Kinds: faultvfs.KindWAL, Count: 1})
	p, path, err := scenario(plain)
	if !errors.Is(err, sqlite3.CANTOPEN) {
		t.Fatalf("os VFS with EIO on -wal: %v, want CANTOPEN (E2)", err)
	}
	if got := mustQuery(t, p, "PRAGMA journal_mode"); got != "delete" || headerFamilyByte(t, path) != 2 {
		t.Fatalf("os VFS after the EIO: journal_mode=%s header %d; E2 says delete on a WAL header", got, headerFamilyByte(t, path))
	}
	fv.Clear()

	fv.Add(faultvfs.Rule{Name: "wal-eio", Ops: faultvfs.OpOpen, Kinds: faultvfs.KindWAL, Count: 3})
	c, _, err := scenario(guarded)
	if err != nil {
		t.Fatalf("through walguard: %v", err)
	}
	if got := mustQuery(t, c, "PRAGMA journal_mode"); got != "wal" {
		t.Fatalf("journal_mode = %s, want wal", got)
	}
	if inj, _ := fv.Stats().Rule("wal-eio"); inj.Injected != 3 {
		t.Fatalf("injected %d faults, want 3", inj.Injected)
	}
	st := g.Stats()
	if st.Retries < 3 || st.Recovered < 1 || len(st.Refusals) != 0 || st.Settled != 0 {
		t.Fatalf("stats %+v: want 3 retries recovered, no refusal, nothing settled", st)
	}
}

// A fault that does not pass: after the budget the caller gets SQLITE_BUSY
// with the original error readable, the header still says WAL, the agreed
// mode is unchanged, and nothing was written.
func TestPersistentEIOIsBusyAndChangesNothing(t *testing.T) {
	fv, guarded, g, path := settledWAL(t, 2)
	before, _ := g.Status(path)
	dbBefore, _ := os.ReadFile(path)
	fv.Add(faultvfs.Rule{Name: "wal-eio", Ops: faultvfs.OpOpen, Kinds: faultvfs.KindWAL})

	c := openConn(t, dsn(path, guarded))
	c.BusyTimeout(50 * time.Millisecond)
	err := c.Exec("INSERT INTO t VALUES(2)")
	if !errors.Is(err, sqlite3.BUSY) || errclass.Classify(err) != policy.ClassTransient {
		t.Fatalf("insert with -wal failing: %v (%v), want a transient BUSY", err, errclass.Classify(err))
	}
	r := g.LastRefusal(path)
	if r == nil || r.Reason != policy.ReasonTransientFault || !errors.Is(r, syscall.EIO) || !errors.Is(r, faultvfs.ErrInjected) ||
		!strings.Contains(r.Error(), path) || !strings.Contains(r.Error(), "open -wal") || !r.Retryable() {
		t.Fatalf("refusal %v: want a retryable transient fault naming the database and the open, wrapping the EIO", r)
	}
	c.Close()
	after, _ := g.Status(path)
	if headerFamilyByte(t, path) != 2 || after.Sidecar.Record.Family != policy.FamilyWAL || after.Sidecar.Record.Generation != before.Sidecar.Record.Generation {
		t.Fatalf("header %d, record %+v (was %+v): nothing may change", headerFamilyByte(t, path), after.Sidecar.Record, before.Sidecar.Record)
	}
	if dbAfter, _ := os.ReadFile(path); !bytes.Equal(dbBefore, dbAfter) {
		t.Fatal("the database file changed")
	}
	if _, err := os.Stat(path + "-journal"); !os.IsNotExist(err) {
		t.Fatal("a rollback journal was written")
	}
}

// Invariant 3 and the settle rule: one ENOLCK from a lock call is taken
// for transient (a full lock table, a lock daemon restarting) and settles
// nothing; an ENOLCK that comes back on fresh descriptors over time
// settles rollback for every later connection, with the signal, when and
// where readable in the record and in check; the deliberate way tests WAL
// again and clears it; the same signal on a WAL database changes nothing.
func TestDeterministicIncompatibilitySettlesRollbackOnlyWhenItLasts(t *testing.T) {
	enolck := func(count int) faultvfs.Rule {
		return faultvfs.Rule{Name: "enolck", Ops: faultvfs.OpLock, Kinds: faultvfs.KindMainDB, Count: count,
			Err: &os.PathError{Op: "fcntl", Path: "lock", Err: syscall.ENOLCK}}
	}

	// Once: nothing settled, and WAL is allowed afterwards.
	fv, _, guarded, g := faultyPair(t, 3)
	path := tempDB(t)
	fv.Add(enolck(1))
	c := openConn(t, dsn(path, guarded))
	mustExec(t, c, "CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	if fv.Stats().Injected == 0 {
		t.Fatal("no ENOLCK was injected: the test proves nothing")
	}
	if st, _ := g.Status(path); g.Stats().Settled != 0 || st.Sidecar.Record == nil || st.Sidecar.Record.Reason == policy.ReasonIncompatible {
		t.Fatalf("one ENOLCK settled the record: %v", st.Sidecar.Record)
	}
	if got := mustQuery(t, c, "PRAGMA journal_mode=wal"); got != "wal" {
		t.Fatalf("journal_mode=wal after one ENOLCK = %q", got)
	}
	c.Close()

	// Lasting: settled, with its evidence.
	fv, _, guarded, g = faultyPair(t, 4)
	path = tempDB(t)
	mustExec(t, openConn(t, dsn(path, "os")), "CREATE TABLE t(x)")
	id := fv.Add(enolck(1000))
	c = openConn(t, dsn(path, guarded))
	if err := c.Exec("INSERT INTO t VALUES(1)"); err == nil || errors.Is(err, sqlite3.BUSY) {
		t.Fatalf("first statement with a lasting ENOLCK: %v, want the error itself", err)
	}
	st, _ := g.Status(path)
	if r := st.Sidecar.Record; r == nil || r.Family != policy.FamilyRollback || r.Reason != policy.ReasonIncompatible ||
		!strings.Contains(r.Detail, "no locks available") || !strings.Contains(r.Detail, "fresh descriptors") || g.Stats().Settled != 1 {
		t.Fatalf("record %v, want rollback settled by the lasting ENOLCK with its evidence", r)
	}
	c.Close()
	report, err := lockcheck.Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(report.Notes, "\n"); !strings.Contains(notes, "rollback settled by deterministic incompatibility") ||
		!strings.Contains(notes, "no locks available") || !strings.Contains(notes, "walguard mode DB wal") {
		t.Fatalf("check notes %q, want the settled rollback with its signal and the way back", report.Notes)
	}

	later, _ := registerTestVFS(t, wgvfs.Options{})
	c2 := openConn(t, dsn(path, later))
	c2.BusyTimeout(0)
	if _, err := queryText(c2, "PRAGMA journal_mode=wal"); err == nil || !strings.Contains(err.Error(), "deterministic incompatibility") {
		t.Fatalf("a later connection's journal_mode=wal: %v, want refused with the recorded reason", err)
	}
	c2.Close()

	// The deliberate way tests it again: still failing, nothing changes;
	// once the fault is gone, WAL and an operator record.
	short, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := g.SetJournalMode(short, path, policy.ModeWAL); err == nil {
		t.Fatal("SetJournalMode(wal) succeeded while locks still fail")
	}
	fv.Remove(id)
	if err := g.SetJournalMode(t.Context(), path, policy.ModeWAL); err != nil {
		t.Fatal(err)
	}
	if st, _ := g.Status(path); st.Sidecar.Record.Family != policy.FamilyWAL || st.Sidecar.Record.Reason != policy.ReasonOperator || headerFamilyByte(t, path) != 2 {
		t.Fatalf("record %v after walguard mode wal, want WAL set by the operator", st.Sidecar.Record)
	}

	// A WAL database is never settled on rollback.
	fv, _, guarded, g = faultyPair(t, 5)
	path = walDatabase(t)
	fv.Add(enolck(1000))
	c = openConn(t, dsn(path, guarded))
	if err := c.Exec("SELECT * FROM t"); err == nil {
		t.Fatal("ENOLCK on a WAL database went unreported")
	}
	st, _ = g.Status(path)
	if st.Sidecar.Record.Family != policy.FamilyWAL || g.Stats().Settled != 0 || headerFamilyByte(t, path) != 2 {
		t.Fatalf("record %+v settled %d: a WAL database is never settled on rollback", st.Sidecar.Record, g.Stats().Settled)
	}
}

// A fault of the sidecar's own I/O is a transient refusal: SQLITE_BUSY
// with the fault readable, no mode decided (invariant 3), and the
// connection joins once the fault passes.
func TestSidecarFaultIsATransientRefusal(t *testing.T) {
	fv, guarded, g, path := settledWAL(t, 5)
	before, _ := g.Status(path)

	id := fv.Add(faultvfs.Rule{Name: "sidecar-lock", Ops: faultvfs.OpLock, Kinds: faultvfs.KindSidecar})
	c := openConn(t, dsn(path, guarded))
	c.BusyTimeout(0)
	_, err := queryText(c, "SELECT x FROM t")
	if !errors.Is(err, sqlite3.BUSY) || errclass.Classify(err) != policy.ClassTransient {
		t.Fatalf("read with the sidecar's locks failing: %v (%v), want a transient BUSY", err, errclass.Classify(err))
	}
	r := g.LastRefusal(path)
	if r == nil || r.Reason != policy.ReasonTransientFault || !errors.Is(r, faultvfs.ErrInjected) || !r.Retryable() {
		t.Fatalf("refusal %v, want a retryable transient fault wrapping the injected error", r)
	}
	fv.Remove(id)
	if got := mustQuery(t, c, "SELECT x FROM t"); got != "1" {
		t.Fatalf("read once the fault passed: %s", got)
	}
	after, _ := g.Status(path)
	if after.Sidecar.Record.Generation != before.Sidecar.Record.Generation || after.Sidecar.Record.Family != policy.FamilyWAL {
		t.Fatalf("record %+v (was %+v): a transient fault decided something", after.Sidecar.Record, before.Sidecar.Record)
	}
}

// A transient fault opening the sidecar is a fault like any other before
// the first write: retried within the budget, then a transient refusal
// (BUSY, retryable), never "sidecar unavailable", which says retrying
// cannot help. A lasting failure (EACCES) is still unavailable.
func TestSidecarOpenFaultIsTransient(t *testing.T) {
	fv, guarded, g, path := settledWAL(t, 11)

	// Within the retry budget: nobody notices.
	id := fv.Add(faultvfs.Rule{Name: "sidecar-open-twice", Ops: faultvfs.OpOpen, Kinds: faultvfs.KindSidecar, Count: 2})
	c := openConn(t, dsn(path, guarded))
	if got := mustQuery(t, c, "SELECT x FROM t"); got != "1" {
		t.Fatalf("read after two sidecar open faults: %s", got)
	}
	c.Close()
	fv.Remove(id)

	// Past the budget: a retryable refusal naming the fault.
	id = fv.Add(faultvfs.Rule{Name: "sidecar-open-always", Ops: faultvfs.OpOpen, Kinds: faultvfs.KindSidecar})
	_, err := sqlite3.Open(dsn(path, guarded))
	if err == nil || errclass.Classify(err) != policy.ClassTransient {
		t.Fatalf("open with the sidecar's open failing EIO: %v (%v), want a transient error", err, errclass.Classify(err))
	}
	r := g.LastRefusal(path)
	if r == nil || r.Reason != policy.ReasonTransientFault || !errors.Is(r, faultvfs.ErrInjected) || !r.Retryable() {
		t.Fatalf("refusal %v, want a retryable transient fault wrapping the injected error", r)
	}
	fv.Remove(id)

	// A lasting failure is what "sidecar unavailable" is for.
	fv.Add(faultvfs.Rule{Name: "sidecar-open-eacces", Ops: faultvfs.OpOpen, Kinds: faultvfs.KindSidecar,
		Err: &os.PathError{Op: "open", Path: path + "-walguard", Err: syscall.EACCES}})
	_, err = sqlite3.Open(dsn(path, guarded))
	if err == nil || errclass.Retryable(err) {
		t.Fatalf("open with the sidecar unreadable (EACCES): %v, want an error retrying cannot fix", err)
	}
	if r := g.LastRefusal(path); r == nil || r.Reason != policy.ReasonSidecarUnavailable || r.Retryable() {
		t.Fatalf("refusal %v, want sidecar unavailable, not retryable", r)
	}
}
