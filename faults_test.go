package walguard_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/faultvfs"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/policy"
	wgvfs "github.com/walguard/walguard/vfs"

	"github.com/walguard/walguard/errclass"
)

func init() {
	childRoles["fallback"] = childFallback
}

// faultyPair registers a faultvfs over os twice: plainly (to show what an
// application sees without walguard) and under walguard.
func faultyPair(t *testing.T, seed int64) (fv *faultvfs.VFS, plain, guarded string, g *wgvfs.VFS) {
	t.Helper()
	fv = faultvfs.New(nil, seed)
	plain = fmt.Sprintf("plain-faulty-%d", testVFSCount.Add(1))
	vfs.Register(plain, fv)
	t.Cleanup(func() { vfs.Unregister(plain) })
	guarded, g = registerTestVFS(t, wgvfs.Options{Base: fv, SidecarHook: fv.SidecarHook()})
	return fv, plain, guarded, g
}

func walDatabase(t *testing.T) string {
	t.Helper()
	path := tempDB(t)
	c := openConn(t, dsn(path, "os"))
	mustExec(t, c, "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	c.Close()
	return path
}

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
	fv, _, guarded, g := faultyPair(t, 2)
	path := walDatabase(t)
	// Settle the record first, then make every -wal open fail.
	c := openConn(t, dsn(path, guarded))
	mustQuery(t, c, "SELECT x FROM t")
	c.Close()
	before, _ := g.Status(path)
	dbBefore, _ := os.ReadFile(path)
	fv.Add(faultvfs.Rule{Name: "wal-eio", Ops: faultvfs.OpOpen, Kinds: faultvfs.KindWAL})

	c = openConn(t, dsn(path, guarded))
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

// A deterministic incompatibility (locks not supported) on a fresh
// database settles rollback for every later connection, with the reason
// readable; the same signal on a WAL database changes nothing.
func TestDeterministicIncompatibilitySettlesRollback(t *testing.T) {
	enolck := faultvfs.Rule{Name: "enolck", Ops: faultvfs.OpLock, Kinds: faultvfs.KindMainDB, Count: 1,
		Err: &os.PathError{Op: "fcntl", Path: "lock", Err: syscall.ENOLCK}}

	fv, _, guarded, g := faultyPair(t, 3)
	path := tempDB(t)
	fv.Add(enolck)
	c := openConn(t, dsn(path, guarded))
	if err := c.Exec("CREATE TABLE t(x)"); err == nil || errors.Is(err, sqlite3.BUSY) {
		t.Fatalf("first statement with ENOLCK: %v, want the error itself", err)
	}
	mustExec(t, c, "CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	st, _ := g.Status(path)
	if st.Sidecar.Record == nil || st.Sidecar.Record.Family != policy.FamilyRollback || st.Sidecar.Record.Reason != policy.ReasonIncompatible ||
		!strings.Contains(st.Sidecar.Record.Detail, "no locks available") || g.Stats().Settled != 1 {
		t.Fatalf("record %+v, want rollback settled by the ENOLCK", st.Sidecar.Record)
	}
	c.Close()

	later, _ := registerTestVFS(t, wgvfs.Options{})
	c2 := openConn(t, dsn(path, later))
	_, err := queryText(c2, "PRAGMA journal_mode=wal")
	if err == nil || !strings.Contains(err.Error(), "deterministic incompatibility") {
		t.Fatalf("a later connection's journal_mode=wal: %v, want refused with the recorded reason", err)
	}

	fv, _, guarded, g = faultyPair(t, 4)
	path = walDatabase(t)
	fv.Add(enolck)
	c = openConn(t, dsn(path, guarded))
	if err := c.Exec("SELECT * FROM t"); err == nil {
		t.Fatal("ENOLCK on a WAL database went unreported")
	}
	st, _ = g.Status(path)
	if st.Sidecar.Record.Family != policy.FamilyWAL || g.Stats().Settled != 0 || headerFamilyByte(t, path) != 2 {
		t.Fatalf("record %+v settled %d: a WAL database is never settled on rollback", st.Sidecar.Record, g.Stats().Settled)
	}
}

// childFallback is the routine from the post-mortem, ported: on any error
// from PRAGMA journal_mode=WAL, fall back to DELETE and carry on. It runs
// over a faultvfs injecting transient EIO on -wal opens, through walguard,
// and prints "ack N" per committed row and "mode M T" with the journal mode
// it committed under and the time.
func childFallback() {
	db, id := os.Getenv("WG_DB"), os.Getenv("WG_ID")
	seed, _ := strconv.ParseInt(os.Getenv("WG_SEED"), 10, 64)
	n, _ := strconv.Atoi(os.Getenv("WG_N"))
	fv := faultvfs.New(nil, seed)
	fv.Add(faultvfs.Rule{Name: "wal-eio", Ops: faultvfs.OpOpen | faultvfs.OpRead, Kinds: faultvfs.KindWAL, Probability: 0.3})
	wgvfs.Register("fallback", wgvfs.Options{Base: fv, SidecarHook: fv.SidecarHook()})
	c, err := sqlite3.Open("file:" + db + "?vfs=fallback")
	if err != nil {
		childFatal("open: %v", err)
	}
	defer c.Close()
	c.BusyTimeout(2 * time.Second)
	if err := c.Exec("PRAGMA journal_mode=wal"); err != nil {
		fmt.Println("fallback", err)
		c.Exec("PRAGMA journal_mode=delete") // the seed's bug: a transient error taken for a property
	}
	for i := 0; i < n; {
		err := c.Exec(fmt.Sprintf("INSERT INTO t VALUES('%s', %d)", id, i))
		if err != nil {
			if errclass.Classify(err).Retryable() {
				continue
			}
			childFatal("insert: %v", err)
		}
		mode, _ := queryText(c, "PRAGMA journal_mode")
		fmt.Println("ack", i)
		fmt.Println("mode", mode, time.Now().UnixNano())
		i++
	}
	fmt.Println("injected", fv.Stats().Injected)
}

// The seed's fallback routine, in several processes at once with
// transient EIO injected: through walguard no process ever runs in DELETE
// while another runs in WAL, the file is sound, and every acknowledged
// write is present.
func TestSeedFallbackRoutineCannotMixFamilies(t *testing.T) {
	path := tempDB(t)
	createTable(t, path, "wal")
	const procs, rows = 3, 60
	var children []*testproc.Child
	for i := range procs {
		children = append(children, testproc.Start(t, os.Args[0], "fallback", "WG_DB="+path,
			fmt.Sprint("WG_ID=p", i), fmt.Sprint("WG_SEED=", 100+i), fmt.Sprint("WG_N=", rows)))
	}
	type span struct{ first, last int64 }
	spans := map[string]map[string]*span{} // child -> mode -> times
	var injected int64
	for i, ch := range children {
		lines, err := ch.Wait()
		if err != nil {
			t.Fatalf("child %d: %v (%q)", i, err, lines)
		}
		acks := 0
		for _, l := range lines {
			var n int64
			if _, err := fmt.Sscanf(l, "injected %d", &n); err == nil {
				injected += n
			}
			var mode string
			var ts int64
			if strings.HasPrefix(l, "ack ") {
				acks++
			} else if _, err := fmt.Sscanf(l, "mode %s %d", &mode, &ts); err == nil {
				key := fmt.Sprint(i)
				if spans[key] == nil {
					spans[key] = map[string]*span{}
				}
				if s := spans[key][mode]; s == nil {
					spans[key][mode] = &span{ts, ts}
				} else {
					s.last = ts
				}
			}
		}
		if acks != rows {
			t.Fatalf("child %d acknowledged %d rows, want %d", i, acks, rows)
		}
	}
	if injected == 0 {
		t.Fatal("no fault was injected: the test proves nothing")
	}
	for a, am := range spans {
		for b, bm := range spans {
			if a == b {
				continue
			}
			if w, d := am["wal"], bm["delete"]; w != nil && d != nil && w.first <= d.last && d.first <= w.last {
				t.Fatalf("child %s wrote in WAL while child %s wrote in DELETE", a, b)
			}
		}
	}
	c := openConn(t, dsn(path, "os"))
	if got := mustQuery(t, c, "PRAGMA integrity_check"); got != "ok" {
		t.Fatalf("integrity_check: %s", got)
	}
	if got := mustQuery(t, c, "SELECT count(*) FROM t"); got != fmt.Sprint(procs*rows) {
		t.Fatalf("%s rows, want %d", got, procs*rows)
	}
}
