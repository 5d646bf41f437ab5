package walguard_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"
	_ "github.com/ncruces/go-sqlite3/driver"

	"github.com/walguard/walguard"
	"github.com/walguard/walguard/errclass"
	"github.com/walguard/walguard/internal/sqlrow"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

func TestNcrucesAPIEndToEnd(t *testing.T) {
	path := sqltest.TempDB(t)
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, walguard.VFSName))
	if got := sqltest.Query(t, c, "PRAGMA journal_mode=wal"); got != "wal" {
		t.Fatalf("journal_mode = %q, want wal", got)
	}
	sqltest.Exec(t, c, "CREATE TABLE t(writer TEXT, seq INT)")
	sqltest.Exec(t, c, "INSERT INTO t VALUES('a', 1), ('a', 2)")
	if got := sqltest.Query(t, c, "SELECT sum(seq) FROM t"); got != "3" {
		t.Fatalf("sum = %s, want 3", got)
	}

	var status struct {
		Sidecar struct {
			Schema       int
			Record       struct{ Family, Program string }
			Participants []struct {
				Entry struct{ PID int }
			}
			Protocols []string
			Families  []string
		}
	}
	raw := sqltest.Query(t, c, "PRAGMA walguard_status")
	if err := json.Unmarshal([]byte(raw), &status); err != nil {
		t.Fatalf("walguard_status is not JSON: %v\n%s", err, raw)
	}
	st := status.Sidecar
	if st.Schema != sidecar.StatusSchema {
		t.Fatalf("schema %d, want %d", st.Schema, sidecar.StatusSchema)
	}
	if st.Record.Family != "wal" || st.Record.Program == "" {
		t.Fatalf("record = %+v, want family wal and a setter", st.Record)
	}
	if len(st.Participants) != 1 || st.Participants[0].Entry.PID != os.Getpid() {
		t.Fatalf("live participants = %+v, want this process alone", st.Participants)
	}
	if fmt.Sprint(st.Protocols) != "["+wgvfs.BuildProtocol.String()+"]" || fmt.Sprint(st.Families) != "[wal]" {
		t.Fatalf("protocols %v families %v, want [%s] [wal]", st.Protocols, st.Families, wgvfs.BuildProtocol)
	}
	if _, err := os.Stat(sidecar.SidecarPath(path)); err != nil {
		t.Fatalf("no sidecar: %v", err)
	}
}

func TestDatabaseSQLConcurrentWriters(t *testing.T) {
	path := sqltest.TempDB(t)
	db, err := sql.Open("sqlite3", sqltest.DSN(path, walguard.VFSName, "_pragma=busy_timeout(10000)", "_pragma=journal_mode(wal)", "_txlock=immediate"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(4)
	if _, err := db.Exec("CREATE TABLE t(writer INT, seq INT)"); err != nil {
		t.Fatal(err)
	}
	const writers, rows = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rows {
				if _, err := db.Exec("INSERT INTO t VALUES(?, ?)", w, i); err != nil {
					errs <- err
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
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != writers*rows {
		t.Fatalf("%d rows, want %d", n, writers*rows)
	}
	var mode string
	db.QueryRow("PRAGMA journal_mode").Scan(&mode)
	if mode != "wal" || sqltest.HeaderFamily(t, path) != 2 {
		t.Fatalf("journal_mode %q header %d, want wal 2", mode, sqltest.HeaderFamily(t, path))
	}
}

// Invariant 6: with every participant agreeing, what SQLite can observe of
// the file is the same through walguard as on the os VFS.
func TestCapabilitiesSurviveWrapping(t *testing.T) {
	probe := func(vfsName string) map[string]string {
		path := sqltest.TempDB(t)
		c := sqltest.OpenWaiting(t, sqltest.DSN(path, vfsName))
		out := map[string]string{}
		for _, q := range []string{
			"PRAGMA journal_mode=wal", "PRAGMA mmap_size=1048576", "PRAGMA mmap_size",
			"PRAGMA synchronous", "PRAGMA locking_mode", "PRAGMA page_size",
		} {
			out[q] = sqltest.Query(t, c, q)
		}
		sqltest.Exec(t, c, "CREATE TABLE t(x); INSERT INTO t VALUES(1)")
		for _, op := range []sqlite3.FcntlOpcode{sqlite3.FCNTL_PERSIST_WAL, sqlite3.FCNTL_POWERSAFE_OVERWRITE} {
			v, err := c.FileControl("main", op)
			out[fmt.Sprint("fcntl ", op)] = fmt.Sprint(v, err)
		}
		v, err := c.FileControl("main", sqlite3.FCNTL_LOCKSTATE)
		out["lockstate"] = fmt.Sprint(v, err)
		if _, err := c.FileControl("main", sqlite3.FCNTL_PERSIST_WAL, true); err != nil {
			t.Fatal(err)
		}
		c.Close()
		_, err = os.Stat(path + "-wal")
		out["wal kept by persist_wal"] = fmt.Sprint(err == nil)
		return out
	}
	plain, guarded := probe("os"), probe(walguard.VFSName)
	for k, v := range plain {
		if guarded[k] != v {
			t.Errorf("%s: os %q, walguard %q", k, v, guarded[k])
		}
	}
	if plain["PRAGMA mmap_size"] != "1048576" {
		t.Fatalf("mmap_size on os = %s: the probe itself is wrong", plain["PRAGMA mmap_size"])
	}
}

func createTable(t testing.TB, path, mode string) {
	t.Helper()
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, walguard.VFSName))
	sqltest.Query(t, c, "PRAGMA journal_mode="+mode)
	sqltest.Exec(t, c, "CREATE TABLE t(writer TEXT, seq INT)")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// Invariant 2, across processes: a downgrade while another process uses
// WAL is refused by walguard (not only by SQLite's own lock), the header
// stays WAL; once nobody shares it, a plain pragma is still refused and
// the deliberate way goes through.
func TestDowngradeRefusedWhileAnotherProcessUsesWAL(t *testing.T) {
	path := sqltest.TempDB(t)
	createTable(t, path, "wal")
	holder := testproc.Start(t, os.Args[0], "holdwal", "WG_DB="+path)
	holder.Expect("ready")

	g := wgvfs.New(wgvfs.Options{})
	name := sqltest.Register(t, g)
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, name))
	c.BusyTimeout(50 * time.Millisecond)
	_, err := sqlrow.Text(c, "PRAGMA journal_mode=delete")
	if !errors.Is(err, sqlite3.BUSY) || !strings.Contains(err.Error(), policy.RefusalMarker) ||
		!strings.Contains(err.Error(), policy.ReasonDowngradeWhileWAL.String()) {
		t.Fatalf("downgrade = %v, want walguard's BUSY refusal", err)
	}
	if errclass.Classify(err) != policy.ClassMismatch {
		t.Fatalf("Classify(%v) = %v, want mismatch", err, errclass.Classify(err))
	}
	if sqltest.HeaderFamily(t, path) != 2 {
		t.Fatal("header no longer says WAL")
	}
	if n := g.Stats().Refusals[policy.ReasonDowngradeWhileWAL.String()]; n != 1 {
		t.Fatalf("refusals counted %d, want 1", n)
	}

	if _, err := holder.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlrow.Text(c, "PRAGMA journal_mode=delete"); err == nil || !strings.Contains(err.Error(), policy.ReasonLeaveWAL.String()) {
		t.Fatalf("journal_mode=delete alone: %v, want refused as not deliberate", err)
	}
	short, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := g.SetJournalMode(short, path, policy.ModeDelete); !errors.Is(err, wgvfs.ErrNotAlone) {
		t.Fatalf("SetJournalMode beside an open connection: %v, want ErrNotAlone", err)
	}
	c.Close()
	if err := g.SetJournalMode(t.Context(), path, policy.ModeDelete); err != nil {
		t.Fatal(err)
	}
	if sqltest.HeaderFamily(t, path) != 1 {
		t.Fatal("header does not say rollback after the downgrade")
	}
	st, _ := g.Status(path)
	if r := st.Sidecar.Record; r == nil || r.Family != policy.FamilyRollback || r.Reason != policy.ReasonOperator ||
		r.Mode != policy.ModeDelete || r.SetterPID != uint32(os.Getpid()) || r.Switch.Pending {
		t.Fatalf("record %+v, want rollback/delete set by the operator", r)
	}
}

// Invariant 5: a participant killed with SIGKILL frees its slot and its
// declarations at once; nothing stale is cleaned by pid.
func TestKilledParticipantFreesItsSlot(t *testing.T) {
	path := sqltest.TempDB(t)
	createTable(t, path, "delete")
	nolock := testproc.Start(t, os.Args[0], "nolock", "WG_DB="+path)
	nolock.Expect("ready")

	g := wgvfs.New(wgvfs.Options{})
	name := sqltest.Register(t, g)
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, name))
	c.BusyTimeout(0)
	if err := c.Exec("SELECT * FROM t"); !errors.Is(err, sqlite3.BUSY) {
		t.Fatalf("with a nolock participant live: %v, want BUSY", err)
	}
	if r := g.LastRefusal(path); r == nil || r.Reason != policy.ReasonNoLock {
		t.Fatalf("refusal %v, want nolock", r)
	}
	st, _ := g.Status(path)
	if len(st.Sidecar.Participants) != 1 || st.Sidecar.Participants[0].Entry == nil || int(st.Sidecar.Participants[0].Entry.PID) != nolock.Pid() {
		t.Fatalf("live %+v, want the nolock child", st.Sidecar.Participants)
	}

	nolock.Kill()
	if err := c.Exec("INSERT INTO t VALUES('parent', 1)"); err != nil {
		t.Fatalf("after the kill: %v, want to join at once", err)
	}
	st, _ = g.Status(path)
	if len(st.Sidecar.Participants) != 1 || int(st.Sidecar.Participants[0].Entry.PID) != os.Getpid() {
		t.Fatalf("live %+v, want this process alone", st.Sidecar.Participants)
	}
}

var flockBinary struct {
	once sync.Once
	path string
	err  error
}

// removeFlockChild removes what buildFlockChild built; TestMain calls it
// once every test has run.
func removeFlockChild() {
	if flockBinary.path != "" {
		os.RemoveAll(filepath.Dir(flockBinary.path))
	}
}

// buildFlockChild builds this test binary with -tags sqlite3_flock: a
// walguard user whose SQLite locks with flock(2) instead of OFD locks. It
// is built once per test binary and removed by removeFlockChild.
func buildFlockChild(t *testing.T) string {
	t.Helper()
	flockBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "walguard-flock")
		if err != nil {
			flockBinary.err = err
			return
		}
		flockBinary.path = filepath.Join(dir, "flock.test")
		out, err := exec.Command("go", "test", "-c", "-tags", "sqlite3_flock", "-o", flockBinary.path, ".").CombinedOutput()
		if err != nil {
			flockBinary.err = fmt.Errorf("%v: %s", err, out)
		}
	})
	if flockBinary.err != nil {
		t.Fatalf("build the flock child: %v", flockBinary.err)
	}
	return flockBinary.path
}

// Measurement E4 and invariant 1: writers built with different locking
// protocols, both through walguard, on one rollback database. Without
// walguard this corrupts the file; with it the second protocol is refused
// while the first is live, and nothing is lost.
func TestMixedLockingProtocolsRefused(t *testing.T) {
	path := sqltest.TempDB(t)
	createTable(t, path, "delete")
	mixedWriters(t, path, path, func() {})
}

// SetJournalMode never creates the database it is asked to change.
func TestSetJournalModeCreatesNothing(t *testing.T) {
	path := sqltest.TempDB(t)
	g := wgvfs.New(wgvfs.Options{})
	if err := g.SetJournalMode(t.Context(), path, policy.ModeWAL); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("SetJournalMode on a missing database: %v, want an error naming it", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("SetJournalMode created %s: %v", path, err)
	}
}

// A process takes part once, whatever its number of connections: another
// process sees one participant, and its declarations last until its last
// connection closes, not its first (the connections share the process's
// locks, counted).
func TestProcessParticipatesUntilItsLastConnectionCloses(t *testing.T) {
	path := sqltest.TempDB(t)
	createTable(t, path, "wal")
	holder := testproc.Start(t, os.Args[0], "twowal", "WG_DB="+path)
	holder.Expect("ready")

	g := wgvfs.New(wgvfs.Options{})
	snap, err := sidecar.ReadSnapshot(path)
	if err != nil || len(snap.Participants) != 1 || snap.Participants[0].Slot.PID != uint32(holder.Pid()) {
		t.Fatalf("participants %+v (%v), want the child once", snap.Participants, err)
	}
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	if err := g.SetJournalMode(short(), path, policy.ModeDelete); !errors.Is(err, wgvfs.ErrNotAlone) {
		t.Fatalf("SetJournalMode beside two connections of a process: %v, want ErrNotAlone", err)
	}
	holder.Send("close one")
	holder.Expect("one closed")
	if err := g.SetJournalMode(short(), path, policy.ModeDelete); !errors.Is(err, wgvfs.ErrNotAlone) {
		t.Fatalf("SetJournalMode beside the process's last connection: %v, want ErrNotAlone", err)
	}
	if sqltest.HeaderFamily(t, path) != 2 {
		t.Fatal("header no longer says WAL")
	}
	if _, err := holder.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := g.SetJournalMode(t.Context(), path, policy.ModeDelete); err != nil {
		t.Fatalf("SetJournalMode once the process closed: %v", err)
	}
}
