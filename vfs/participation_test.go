//go:build linux || darwin

package vfs_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/internal/filelock"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

// countingHook counts the sidecar operations walguard makes, by kind.
func countingHook(mu *sync.Mutex, ops map[string]int) func(op, path string) error {
	return func(op, _ string) error {
		mu.Lock()
		ops[op]++
		mu.Unlock()
		return nil
	}
}

// A connection whose process already participates joins in memory: its
// open, first read, write and close neither open nor write the sidecar,
// and no join takes the agreement byte (docs/design.md, "Participation per
// process"): one lock (the agreement byte's mirror) and one read (the
// record) each. Each mode: WAL, whose first read joins the family, and
// DELETE, whose first write does.
func TestSiblingJoinsInMemory(t *testing.T) {
	for _, mode := range []string{"wal", "delete"} {
		t.Run(mode, func(t *testing.T) {
			var mu sync.Mutex
			ops := map[string]int{}
			name, g := registerTestVFS(t, wgvfs.Options{SidecarHook: countingHook(&mu, ops)})
			path := tempDB(t)
			first := openConn(t, dsn(path, name))
			mustQuery(t, first, "PRAGMA journal_mode="+mode)
			mustExec(t, first, "CREATE TABLE t(x); INSERT INTO t VALUES(1)")
			mu.Lock()
			clear(ops)
			mu.Unlock()
			joins := g.Stats().Joins
			for i := range 5 {
				c := openConn(t, dsn(path, name))
				mustQuery(t, c, "SELECT count(*) FROM t")
				mustExec(t, c, fmt.Sprintf("INSERT INTO t VALUES(%d)", i))
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
			}
			mu.Lock()
			if want := map[string]int{"lock": 5, "read": 5}; !maps.Equal(ops, want) {
				t.Errorf("5 sibling connections made the sidecar operations %v, want %v", ops, want)
			}
			mu.Unlock()
			if got := g.Stats().Joins - joins; got != 0 {
				t.Errorf("5 sibling connections took the agreement byte %d times, want 0", got)
			}
			if got := mustQuery(t, first, "SELECT count(*) FROM t"); got != "6" {
				t.Fatalf("%s rows, want 6", got)
			}
		})
	}
}

// One process, one participant: however many connections it has open on
// a database, it holds one descriptor of the sidecar, one slot, and one
// lock per declaration on each file, so the kernel's lock lists (which
// every lock call walks) do not grow with its connections.
func TestManyConnectionsOneParticipant(t *testing.T) {
	name, _ := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	const conns = 50
	var all []*sqlite3.Conn
	for i := range conns {
		c := openConn(t, dsn(path, name))
		if i == 0 {
			mustExec(t, c, "PRAGMA journal_mode=wal; CREATE TABLE t(x)")
		}
		mustQuery(t, c, "SELECT count(*) FROM t")
		all = append(all, c)
	}
	if n := descriptorsOf(t, sidecar.SidecarPath(path)); n != 1 {
		t.Errorf("%d descriptors of the sidecar for %d connections, want 1", n, conns)
	}
	snap, err := sidecar.ReadSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Participants) != 1 || len(snap.Families) != 1 || snap.Families[0] != policy.FamilyWAL {
		t.Fatalf("participants %+v, families %v: want one slot declaring WAL", snap.Participants, snap.Families)
	}
	for _, c := range all[:conns-1] {
		c.Close()
	}
	// The last connection still declares everything.
	if snap, err = sidecar.ReadSnapshot(path); err != nil || len(snap.Participants) != 1 || len(snap.Families) != 1 || len(snap.Protocols) != 1 {
		t.Fatalf("with one connection left: %+v (%v)", snap, err)
	}
	all[conns-1].Close()
	if snap, err = sidecar.ReadSnapshot(path); err != nil || len(snap.Participants) != 0 || len(snap.Families) != 0 || len(snap.Protocols) != 0 {
		t.Fatalf("with every connection closed: %+v (%v), want nothing held", snap, err)
	}
	if n := descriptorsOf(t, sidecar.SidecarPath(path)); n != 0 {
		t.Fatalf("%d descriptors of the sidecar left open", n)
	}
}

// descriptorsOf counts this process's open descriptors of the file at
// path, from /proc/self/fd (or /dev/fd).
func descriptorsOf(t *testing.T, path string) int {
	t.Helper()
	dir := "/proc/self/fd"
	if _, err := os.Stat(dir); err != nil {
		dir = "/dev/fd"
	}
	want, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && os.SameFile(fi, want) {
			n++
		}
	}
	return n
}

// A sidecar removed while the process participates: the next connection
// does not join in memory on the removed file (which newcomers can no
// longer find) but opens the new one, and finds the live participation on
// the database's mirror bytes (a replaced sidecar).
func TestSidecarRemovedNextConnectionJoinsTheNewOne(t *testing.T) {
	name, g := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	first := openConn(t, dsn(path, name))
	mustExec(t, first, "CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	if err := os.Remove(sidecar.SidecarPath(path)); err != nil {
		t.Fatal(err)
	}
	second := openConn(t, dsn(path, name))
	mustExec(t, second, "INSERT INTO t VALUES(2)")
	if _, err := os.Stat(sidecar.SidecarPath(path)); err != nil {
		t.Fatalf("no sidecar at its path after a new connection: %v", err)
	}
	if n := g.Stats().SidecarsReplaced; n != 1 {
		t.Fatalf("sidecars found replaced: %d, want 1", n)
	}
	snap, err := sidecar.ReadSnapshot(path)
	if err != nil || len(snap.Participants) != 1 {
		t.Fatalf("the new sidecar: %+v (%v), want the second connection's slot", snap, err)
	}
}

// A database renamed over while the process participates: the next
// connection through the name opens the new file, and declares itself on
// that file's mirror bytes, where every newcomer to it looks; joining in
// memory would leave it declared on the old file only.
func TestDatabaseRenamedOverNextConnectionDeclaresOnTheNewFile(t *testing.T) {
	name, _ := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	first := openConn(t, dsn(path, name))
	mustExec(t, first, "CREATE TABLE t(x); INSERT INTO t VALUES(1)")

	other := filepath.Join(filepath.Dir(path), "other.db")
	c := openConn(t, dsn(other, "os"))
	mustExec(t, c, "CREATE TABLE t(x); INSERT INTO t VALUES(2)")
	c.Close()
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	second := openConn(t, dsn(path, name))
	if got := mustQuery(t, second, "SELECT x FROM t"); got != "2" {
		t.Fatalf("read %s, want the new file's row", got)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	held, err := filelock.Test(f, sidecar.MirrorByte(sidecar.ProtocolByte(policy.ProtocolOFD)))
	if err != nil || !held {
		t.Fatalf("protocol declared on the new file's mirror: %v (%v), want held", held, err)
	}
}

// Connections of one process opening, writing and closing at once, on a
// WAL and a rollback database: every row arrives, and when the last one
// closes nothing is left declared (no lock, slot or descriptor leaks
// from the counts). Run with -race, it also checks the shared state's
// locking.
func TestSiblingsChurn(t *testing.T) {
	for _, mode := range []string{"wal", "delete"} {
		t.Run(mode, func(t *testing.T) {
			name, _ := registerTestVFS(t, wgvfs.Options{})
			path := tempDB(t)
			createTable(t, path, mode)
			const workers, loops = 6, 15
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range loops {
						c, err := sqlite3.Open(dsn(path, name))
						if err != nil {
							errs <- err
							return
						}
						c.BusyTimeout(10e9)
						err = c.Exec(fmt.Sprintf("INSERT INTO t VALUES('w%d', %d)", w, i))
						if err == nil {
							err = c.Exec("SELECT count(*) FROM t")
						}
						if cerr := c.Close(); err == nil {
							err = cerr
						}
						if err != nil {
							errs <- fmt.Errorf("worker %d, loop %d: %w", w, i, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			c := openConn(t, dsn(path, "os"))
			if got := mustQuery(t, c, "SELECT count(*) FROM t"); got != fmt.Sprint(workers*loops) {
				t.Fatalf("%s rows, want %d", got, workers*loops)
			}
			c.Close()
			snap, err := sidecar.ReadSnapshot(path)
			if err != nil || len(snap.Participants) != 0 || len(snap.Families) != 0 || len(snap.Protocols) != 0 {
				t.Fatalf("after every connection closed: %+v (%v), want nothing held", snap, err)
			}
		})
	}
}
