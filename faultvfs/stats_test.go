package faultvfs_test

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/faultvfs"
	"github.com/walguard/walguard/internal/sqltest"
)

func TestStats(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	fv := faultvfs.New(vfs.Find("os"), 1)
	fv.Add(faultvfs.Rule{Name: "x", Ops: faultvfs.OpAccess, Kinds: faultvfs.KindWAL, Count: 1})
	fv.Add(faultvfs.Rule{Name: "y", Ops: faultvfs.OpOpen})
	fv.Add(faultvfs.Rule{Name: "x", Ops: faultvfs.OpDelete}) // adds up with the first "x"

	fv.Access(db+"-wal", vfs.ACCESS_EXISTS)
	fv.Access(db+"-wal", vfs.ACCESS_EXISTS)
	fv.Access(db, vfs.ACCESS_EXISTS)
	fv.Delete(db+"-journal", false)
	fv.SidecarFault(faultvfs.OpRead, db+"-walguard")

	want := `calls 5, injected 2
rule "x": matched 3, injected 2
rule "y": matched 0, injected 0
op read: calls 1, injected 0
op access: calls 3, injected 1
op delete: calls 1, injected 1
kind main-db: calls 1, injected 0
kind journal: calls 1, injected 1
kind wal: calls 2, injected 1
kind sidecar: calls 1, injected 0`
	st := fv.Stats()
	if got := st.String(); got != want {
		t.Fatalf("stats:\n%s\nwant:\n%s", got, want)
	}
	if o := st.Op(faultvfs.OpAccess); o.Calls != 3 || o.Injected != 1 {
		t.Errorf("Op(access) = %+v", o)
	}
	if o := st.Op(faultvfs.OpSync); o != (faultvfs.OpStats{Op: faultvfs.OpSync}) {
		t.Errorf("Op(sync) = %+v, want zero", o)
	}
	if k := st.Kind(faultvfs.KindTemp); k != (faultvfs.KindStats{Kind: faultvfs.KindTemp}) {
		t.Errorf("Kind(temp) = %+v, want zero", k)
	}
	if _, ok := st.Rule("z"); ok {
		t.Error("Rule(z) found")
	}
}

func TestStatsCountSQLiteCalls(t *testing.T) {
	fv, name := register(t, 1)
	path := tempDB(t)
	fv.Add(faultvfs.Rule{Name: "journal-writes", Ops: faultvfs.OpWrite, Kinds: faultvfs.KindJournal, Skip: 1 << 30})
	c := sqltest.Open(t, dsn(path, name))
	sqltest.Exec(t, c, "CREATE TABLE t(x)")
	before := fv.Stats()
	sqltest.Exec(t, c, "INSERT INTO t VALUES(1)")
	after := fv.Stats()

	r0, _ := before.Rule("journal-writes")
	r1, _ := after.Rule("journal-writes")
	j0, j1 := before.Op(faultvfs.OpWrite), after.Op(faultvfs.OpWrite)
	if r1.Matched <= r0.Matched || r1.Injected != 0 {
		t.Fatalf("a rollback-journal insert: rule %+v -> %+v", r0, r1)
	}
	if j1.Calls-j0.Calls <= r1.Matched-r0.Matched {
		t.Fatalf("writes %d -> %d, journal writes %d -> %d: the database file was not written too",
			j0.Calls, j1.Calls, r0.Matched, r1.Matched)
	}
	if after.Calls <= before.Calls || after.Kind(faultvfs.KindMainDB).Calls <= before.Kind(faultvfs.KindMainDB).Calls {
		t.Fatalf("calls did not grow:\n%v\n%v", before, after)
	}
}

// TestConcurrentUse runs SQLite connections, sidecar faults, rule changes
// and snapshots at once; run it with -race.
func TestConcurrentUse(t *testing.T) {
	fv, name := register(t, 3)
	path := tempDB(t)
	setup := sqltest.Open(t, dsn(path, name))
	sqltest.Exec(t, setup, "PRAGMA journal_mode=WAL; CREATE TABLE t(x)")
	fv.Add(faultvfs.Rule{Name: "side", Ops: faultvfs.OpWrite, Kinds: faultvfs.KindSidecar, Count: 100})
	fv.Add(faultvfs.Rule{Name: "wal", Ops: faultvfs.OpWrite, Kinds: faultvfs.KindWAL, Probability: 0.05})

	const sidecarWorkers, sidecarCalls = 4, 500
	var wg sync.WaitGroup
	var mu sync.Mutex
	var injectedSeen int
	for range sidecarWorkers {
		wg.Go(func() {
			n := 0
			for range sidecarCalls {
				if err := fv.SidecarFault(faultvfs.OpWrite, path+"-walguard"); err != nil {
					n++
				}
			}
			mu.Lock()
			injectedSeen += n
			mu.Unlock()
		})
	}
	for range 2 {
		wg.Go(func() {
			c, err := sqlite3.Open(dsn(path, name, "_pragma=busy_timeout(5000)"))
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for range 20 {
				if err := c.Exec("INSERT INTO t VALUES(1)"); err != nil && !errors.Is(err, sqlite3.IOERR_WRITE) {
					t.Errorf("insert: %v", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			id := fv.Add(faultvfs.Rule{Name: "churn", Ops: faultvfs.OpCheckReservedLock})
			_ = fv.Stats().String()
			fv.Remove(id)
		}
	})
	wg.Wait()

	st := fv.Stats()
	if r, _ := st.Rule("side"); r.Injected != 100 || r.Matched != sidecarWorkers*sidecarCalls || injectedSeen != 100 {
		t.Fatalf("side rule %+v, callers saw %d failures; want exactly 100 of %d", r, injectedSeen, sidecarWorkers*sidecarCalls)
	}
	if k := st.Kind(faultvfs.KindSidecar); k.Calls != sidecarWorkers*sidecarCalls {
		t.Fatalf("sidecar calls %d", k.Calls)
	}
	if w, _ := st.Rule("wal"); w.Matched == 0 {
		t.Fatalf("no WAL writes seen: %v", st)
	}
}
