package walguard_test

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ncruces/go-sqlite3"
	_ "github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"

	"github.com/walguard/walguard/errclass"
)

var testVFSCount atomic.Int64

// registerTestVFS registers a guarded VFS under a name unique to the test,
// so its counters start at zero.
func registerTestVFS(t testing.TB, opts wgvfs.Options) (string, *wgvfs.VFS) {
	t.Helper()
	name := fmt.Sprintf("wg-%s-%d", strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()), testVFSCount.Add(1))
	g := wgvfs.Register(name, opts)
	t.Cleanup(func() { vfs.Unregister(name) })
	return name, g
}

func TestNcrucesAPIEndToEnd(t *testing.T) {
	path := tempDB(t)
	c := openConn(t, dsn(path, walguard.VFSName))
	if got := mustQuery(t, c, "PRAGMA journal_mode=wal"); got != "wal" {
		t.Fatalf("journal_mode = %q, want wal", got)
	}
	mustExec(t, c, "CREATE TABLE t(writer TEXT, seq INT)")
	mustExec(t, c, "INSERT INTO t VALUES('a', 1), ('a', 2)")
	if got := mustQuery(t, c, "SELECT sum(seq) FROM t"); got != "3" {
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
	raw := mustQuery(t, c, "PRAGMA walguard_status")
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
	path := tempDB(t)
	db, err := sql.Open("sqlite3", dsn(path, walguard.VFSName, "_pragma=busy_timeout(10000)", "_pragma=journal_mode(wal)", "_txlock=immediate"))
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
	if mode != "wal" || headerFamilyByte(t, path) != 2 {
		t.Fatalf("journal_mode %q header %d, want wal 2", mode, headerFamilyByte(t, path))
	}
}

// Invariant 6: with every participant agreeing, what SQLite can observe of
// the file is the same through walguard as on the os VFS.
func TestCapabilitiesSurviveWrapping(t *testing.T) {
	probe := func(vfsName string) map[string]string {
		path := tempDB(t)
		c := openConn(t, dsn(path, vfsName))
		out := map[string]string{}
		for _, q := range []string{
			"PRAGMA journal_mode=wal", "PRAGMA mmap_size=1048576", "PRAGMA mmap_size",
			"PRAGMA synchronous", "PRAGMA locking_mode", "PRAGMA page_size",
		} {
			out[q] = mustQuery(t, c, q)
		}
		mustExec(t, c, "CREATE TABLE t(x); INSERT INTO t VALUES(1)")
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

func TestTemporaryAndReadOnlyFilesPassThrough(t *testing.T) {
	name, g := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	c := openConn(t, dsn(path, name))
	mustExec(t, c, "CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	c.Close()
	before := g.Stats().PassThrough

	ro := openConn(t, dsn(path, name, "mode=ro"))
	if got := mustQuery(t, ro, "SELECT x FROM t"); got != "1" {
		t.Fatalf("read-only read = %s", got)
	}
	tmp := openConn(t, dsn(path, name))
	mustExec(t, tmp, "PRAGMA temp_store=file; CREATE TEMP TABLE tt AS SELECT * FROM t; INSERT INTO tt SELECT x+1 FROM tt")
	if got := mustQuery(t, tmp, "SELECT sum(x) FROM tt"); got != "3" {
		t.Fatalf("temp table sum = %s", got)
	}
	mem := openConn(t, "file:mem?mode=memory&vfs="+name)
	mustExec(t, mem, "CREATE TABLE m(x); INSERT INTO m VALUES(7)")
	if got := mustQuery(t, mem, "SELECT x FROM m"); got != "7" {
		t.Fatalf("memory db read = %s", got)
	}
	if g.Stats().PassThrough <= before {
		t.Fatalf("pass-through count %d did not grow from %d", g.Stats().PassThrough, before)
	}
	st, _ := g.Status(path)
	if len(st.Sidecar.Participants) != 1 {
		t.Fatalf("live participants %+v: the read-only connection must not join, the other must", st.Sidecar.Participants)
	}
}

func TestSidecarSymlinkRefused(t *testing.T) {
	path := tempDB(t)
	target := filepath.Join(filepath.Dir(path), "elsewhere")
	if err := os.Symlink(target, sidecar.SidecarPath(path)); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite3.Open(dsn(path, walguard.VFSName))
	var refusal *walguard.RefusalError
	if !errors.As(err, &refusal) || !errors.Is(err, sidecar.ErrSymlink) {
		t.Fatalf("open = %v, want a refusal wrapping ErrSymlink", err)
	}
	if !strings.Contains(err.Error(), path) || refusal.Op != "open" {
		t.Fatalf("error %q does not name the database and the operation", err)
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatalf("the symlink was followed: %v", err)
	}
}

func TestUnavailableSidecarIsAClearError(t *testing.T) {
	name, _ := registerTestVFS(t, wgvfs.Options{SidecarHook: func(op, path string) error {
		if op == "open" {
			return &os.PathError{Op: "open", Path: path, Err: os.ErrPermission}
		}
		return nil
	}})
	path := tempDB(t)
	_, err := sqlite3.Open(dsn(path, name))
	var refusal *walguard.RefusalError
	if !errors.As(err, &refusal) || refusal.Reason != policy.ReasonSidecarUnavailable {
		t.Fatalf("open = %v, want a sidecar-unavailable refusal", err)
	}
	if !errors.Is(err, sqlite3.CANTOPEN) || errclass.Classify(err) == policy.ClassTransient {
		t.Fatalf("open = %v: want CANTOPEN, not retryable", err)
	}
}

func TestCorruptSidecarRebuilt(t *testing.T) {
	name, g := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	c := openConn(t, dsn(path, name))
	mustExec(t, c, "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	c.Close()
	if err := os.WriteFile(sidecar.SidecarPath(path), []byte("garbage, not a record at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	c = openConn(t, dsn(path, name))
	if got := mustQuery(t, c, "SELECT x FROM t"); got != "1" {
		t.Fatalf("read after rebuild = %s", got)
	}
	st, err := g.Status(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sidecar.Record == nil || st.Sidecar.Record.Reason != policy.ReasonRebuilt || st.Sidecar.Record.Family != policy.FamilyWAL || g.Stats().RecordsRebuilt != 1 {
		t.Fatalf("record %+v rebuilt %d; want rebuilt from the WAL header once", st.Sidecar.Record, g.Stats().RecordsRebuilt)
	}
}

func TestCorruptSidecarRefusedByPolicy(t *testing.T) {
	p := policy.Default()
	p.CorruptRecord = policy.RecordRefuse
	name, g := registerTestVFS(t, wgvfs.Options{Policy: &p})
	path := tempDB(t)
	c := openConn(t, dsn(path, name))
	mustExec(t, c, "CREATE TABLE t(x)")
	c.Close()
	rec := sidecar.EncodeRecord(sidecar.Record{Generation: 1, Family: policy.FamilyRollback})
	rec[30] ^= 0xff // torn: the checksum no longer matches
	if err := os.WriteFile(sidecar.SidecarPath(path), rec[:], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite3.Open(dsn(path, name))
	var refusal *walguard.RefusalError
	if !errors.Is(err, sqlite3.CANTOPEN) || !errors.As(err, &refusal) || !strings.Contains(err.Error(), "walguard check") {
		t.Fatalf("got %v, want a refusal at open that says what to do", err)
	}
	if r := g.LastRefusal(path); r == nil || r.Reason != policy.ReasonSidecarCorrupt || !errors.Is(r, sidecar.ErrChecksum) {
		t.Fatalf("last refusal %v, want sidecar corrupt wrapping ErrChecksum", r)
	}
}

func createTable(t testing.TB, path, mode string) {
	t.Helper()
	c := openConn(t, dsn(path, walguard.VFSName))
	mustQuery(t, c, "PRAGMA journal_mode="+mode)
	mustExec(t, c, "CREATE TABLE t(writer TEXT, seq INT)")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// Invariant 2, across processes: a downgrade while another process uses
// WAL is refused by walguard (not only by SQLite's own lock), the header
// stays WAL, and the same downgrade goes through once nobody shares it.
func TestDowngradeRefusedWhileAnotherProcessUsesWAL(t *testing.T) {
	path := tempDB(t)
	createTable(t, path, "wal")
	holder := testproc.Start(t, os.Args[0], "holdwal", "WG_DB="+path)
	holder.Expect("ready")

	name, g := registerTestVFS(t, wgvfs.Options{})
	c := openConn(t, dsn(path, name))
	_, err := queryText(c, "PRAGMA journal_mode=delete")
	if !errors.Is(err, sqlite3.BUSY) || !strings.Contains(err.Error(), policy.RefusalMarker) ||
		!strings.Contains(err.Error(), policy.ReasonDowngradeWhileWAL.String()) {
		t.Fatalf("downgrade = %v, want walguard's BUSY refusal", err)
	}
	if errclass.Classify(err) != policy.ClassMismatch {
		t.Fatalf("Classify(%v) = %v, want mismatch", err, errclass.Classify(err))
	}
	if headerFamilyByte(t, path) != 2 {
		t.Fatal("header no longer says WAL")
	}
	if n := g.Stats().Refusals[policy.ReasonDowngradeWhileWAL.String()]; n != 1 {
		t.Fatalf("refusals counted %d, want 1", n)
	}

	if _, err := holder.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := mustQuery(t, c, "PRAGMA journal_mode=delete"); got != "delete" {
		t.Fatalf("journal_mode = %q once unshared, want delete", got)
	}
	if headerFamilyByte(t, path) != 1 {
		t.Fatal("header does not say rollback after the downgrade")
	}
	st, _ := g.Status(path)
	if st.Sidecar.Record == nil || st.Sidecar.Record.Family != policy.FamilyRollback || st.Sidecar.Record.Reason != policy.ReasonPragma || st.Sidecar.Record.Mode != policy.ModeDelete {
		t.Fatalf("record %+v, want rollback/delete set by the pragma", st.Sidecar.Record)
	}
}

// Invariant 5: a participant killed with SIGKILL frees its slot and its
// declarations at once; nothing stale is cleaned by pid.
func TestKilledParticipantFreesItsSlot(t *testing.T) {
	path := tempDB(t)
	createTable(t, path, "delete")
	nolock := testproc.Start(t, os.Args[0], "nolock", "WG_DB="+path)
	nolock.Expect("ready")

	name, g := registerTestVFS(t, wgvfs.Options{})
	c := openConn(t, dsn(path, name))
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

// buildFlockChild builds this test binary with -tags sqlite3_flock: a
// walguard user whose SQLite locks with flock(2) instead of OFD locks.
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
	flock := buildFlockChild(t)
	path := tempDB(t)
	createTable(t, path, "delete")
	const rows = 200

	ofd := testproc.Start(t, os.Args[0], "writer", "WG_DB="+path, "WG_ID=ofd", fmt.Sprint("WG_N=", rows), "WG_WAIT=1")
	ofd.Expect("ready")
	fl := testproc.Start(t, flock, "writer", "WG_DB="+path, "WG_ID=flock", fmt.Sprint("WG_N=", rows))
	if got := fl.Expect("refused"); got != "refused "+policy.ReasonProtocolMismatch.String() {
		t.Fatalf("flock writer: %q, want a protocol mismatch refusal", got)
	}
	ofd.Send("go")

	acked := map[string]int{}
	for id, w := range map[string]*testproc.Child{"ofd": ofd, "flock": fl} {
		lines, err := w.Wait()
		if err != nil {
			t.Fatalf("%s writer: %v", id, err)
		}
		for _, l := range lines {
			if strings.HasPrefix(l, "ack ") {
				acked[id]++
			}
		}
	}
	c := openConn(t, dsn(path, walguard.VFSName))
	if got := mustQuery(t, c, "PRAGMA integrity_check"); got != "ok" {
		t.Fatalf("integrity_check: %s", got)
	}
	for _, id := range []string{"ofd", "flock"} {
		got := mustQuery(t, c, fmt.Sprintf("SELECT count(*) FROM t WHERE writer = '%s'", id))
		if got != fmt.Sprint(acked[id]) || acked[id] != rows {
			t.Errorf("%s rows: %s in the table, %d acknowledged, %d written", id, got, acked[id], rows)
		}
	}
}

// A journal-mode flip made by a real client that does not use walguard
// (the sqlite3 CLI) is noticed, on open and on the page-1 reads SQLite
// already does, and the record follows it as the default policy says.
func TestForeignFlipNoticed(t *testing.T) {
	cli, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Fatal("the sqlite3 CLI is needed for this interop test; .ci/run installs it")
	}
	name, g := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	c := openConn(t, dsn(path, name))
	mustExec(t, c, "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	c.Close()

	if out, err := exec.Command(cli, path, "PRAGMA journal_mode=delete;").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "delete" {
		t.Fatalf("sqlite3 CLI: %v %s", err, out)
	}
	c = openConn(t, dsn(path, name))
	mustExec(t, c, "INSERT INTO t VALUES(2)") // a rollback write: this connection now holds the rollback family
	if g.Stats().ForeignFlips != 1 {
		t.Fatalf("foreign flips %d after the CLI's downgrade, want 1", g.Stats().ForeignFlips)
	}
	st, _ := g.Status(path)
	if st.Sidecar.Record.Family != policy.FamilyRollback || st.Sidecar.Record.Reason != policy.ReasonForeignFlip {
		t.Fatalf("record %+v, want rollback adopted from a foreign flip", st.Sidecar.Record)
	}

	// Now a flip while this connection stays open, idle between transactions.
	if out, err := exec.Command(cli, path, "PRAGMA journal_mode=wal;").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "wal" {
		t.Fatalf("sqlite3 CLI: %v %s", err, out)
	}
	if got := mustQuery(t, c, "SELECT count(*) FROM t"); got != "2" {
		t.Fatalf("count = %s", got)
	}
	if g.Stats().ForeignFlips != 2 {
		t.Fatalf("foreign flips %d after the CLI's upgrade, want 2", g.Stats().ForeignFlips)
	}
	mustExec(t, c, "INSERT INTO t VALUES(3)")
	if got := mustQuery(t, c, "PRAGMA journal_mode"); got != "wal" {
		t.Fatalf("journal_mode %s, want wal: the connection followed the header", got)
	}
}

// A record written by a newer walguard is never overwritten or trusted.
func TestFutureVersionRecordRefused(t *testing.T) {
	path := tempDB(t)
	createTable(t, path, "wal")
	rec := sidecar.EncodeRecord(sidecar.Record{Generation: 9, Family: policy.FamilyWAL, Mode: policy.ModeWAL})
	binary.BigEndian.PutUint16(rec[8:], sidecar.RecordVersion+1)
	binary.BigEndian.PutUint32(rec[252:], crc32.Checksum(rec[:252], crc32.MakeTable(crc32.Castagnoli)))
	if err := os.WriteFile(sidecar.SidecarPath(path), rec[:], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite3.Open(dsn(path, walguard.VFSName))
	if !errors.Is(err, sidecar.ErrVersion) || !strings.Contains(err.Error(), "newer walguard") {
		t.Fatalf("open over a future record: %v, want a refusal wrapping ErrVersion", err)
	}
	if got, _ := os.ReadFile(sidecar.SidecarPath(path)); !bytes.Equal(got, rec[:]) {
		t.Fatal("the newer record was overwritten")
	}
}

// SQLite opens a leftover -journal read-only to see whether it is hot; a
// reader must not be taken for a rollback writer and locked out of WAL.
func TestLeftoverJournalNextToWALDoesNotLockOut(t *testing.T) {
	path := tempDB(t)
	a := openConn(t, dsn(path, walguard.VFSName))
	mustExec(t, a, "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	if err := os.WriteFile(path+"-journal", make([]byte, 512), 0o644); err != nil {
		t.Fatal(err)
	}
	b := openConn(t, dsn(path, walguard.VFSName))
	b.BusyTimeout(0)
	if got, err := queryText(b, "SELECT count(*) FROM t"); err != nil || got != "1" {
		t.Fatalf("reader beside a leftover journal: %q %v, want 1 row as on the os VFS", got, err)
	}
	mustExec(t, b, "INSERT INTO t VALUES(2)")
}

// Status may be called from any goroutine while connections open (-race).
func TestStatusWhileOpening(t *testing.T) {
	name, g := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			g.Status(path)
		}
	}()
	for range 10 {
		c := openConn(t, dsn(path, name))
		mustExec(t, c, "CREATE TABLE IF NOT EXISTS t(x)")
		c.Close()
	}
	<-done
}
