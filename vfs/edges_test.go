package vfs_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/errclass"
	"github.com/walguard/walguard/lockcheck"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

// A record whose version bytes were torn reads as torn and is rebuilt; it
// is not taken for a record "written by a newer walguard" and refused for
// good.
func TestTornVersionIsRebuiltNotNewer(t *testing.T) {
	name, g := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	c := openConn(t, dsn(path, name))
	mustExec(t, c, "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	c.Close()
	rec, err := os.ReadFile(sidecar.SidecarPath(path))
	if err != nil {
		t.Fatal(err)
	}
	binary.BigEndian.PutUint16(rec[8:], sidecar.RecordVersion+1) // torn: the checksum is the old one
	if err := os.WriteFile(sidecar.SidecarPath(path), rec, 0o644); err != nil {
		t.Fatal(err)
	}
	c = openConn(t, dsn(path, name))
	mustExec(t, c, "INSERT INTO t VALUES(2)")
	st, err := g.Status(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sidecar.Record == nil || st.Sidecar.Record.Reason != policy.ReasonRebuilt || !strings.Contains(st.Sidecar.Record.Detail, "checksum") {
		t.Fatalf("record %+v, want rebuilt after a checksum mismatch", st.Sidecar.Record)
	}
}

// diskFull fails every write to the sidecar with ENOSPC, as a full disk
// would once the file must grow.
func diskFull(op, path string) error {
	if op == "write" {
		return &os.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}
	}
	return nil
}

// On a full disk walguard opens as many connections as the os VFS: a slot
// entry or a first record that cannot be written does not refuse a
// connection whose locks are held; and ENOSPC is transient where it does
// refuse (a record change).
func TestFullDiskNeverRefusesHeldConnections(t *testing.T) {
	name, g := registerTestVFS(t, wgvfs.Options{SidecarHook: diskFull})
	path := tempDB(t)
	first := openConn(t, dsn(path, name)) // a first open: not even the record can be written
	mustExec(t, first, "CREATE TABLE t(x)")
	const conns = 40
	others := make([]*sqlite3.Conn, conns)
	for i := range others {
		others[i] = openConn(t, dsn(path, name))
		mustExec(t, others[i], fmt.Sprintf("INSERT INTO t VALUES(%d)", i))
	}
	if got := mustQuery(t, first, "SELECT count(*) FROM t"); got != fmt.Sprint(conns) {
		t.Fatalf("%s rows, want %d", got, conns)
	}
	if n := len(g.Stats().Refusals); n != 0 {
		t.Fatalf("refusals %v on a full disk, want none", g.Stats().Refusals)
	}
	st, err := g.Status(path)
	if err != nil {
		t.Fatal(err)
	}
	// One process, one participant: its slot is live though its entry
	// could not be written, and all its connections count on it.
	if ps := st.Sidecar.Participants; len(ps) != 1 || ps[0].Entry != nil {
		t.Fatalf("live participants %+v, want this process's slot, live with no entry: the locks count, entries or not", ps)
	}
	// A change of the agreed mode needs the record: refused, as transient.
	for _, c := range others {
		c.Close()
	}
	first.BusyTimeout(0)
	queryText(first, "PRAGMA journal_mode=wal")
	r := g.LastRefusal(path)
	if r == nil || errclass.Classify(r) != policy.ClassTransient || !errors.Is(r, syscall.ENOSPC) {
		t.Fatalf("journal_mode=wal on a full disk: refusal %v; want a transient refusal", r)
	}
	if b := headerFamilyByte(t, path); b != 1 {
		t.Fatalf("header byte 18 = %d, want 1: the change was not recorded, so it must not be written", b)
	}
}

// A database name of 247 bytes works on the os VFS (its "-journal" name
// is 255 bytes) but "-walguard" would pass NAME_MAX: the sidecar gets the
// documented short name, which walguard check finds too. (From 248 bytes
// on, the os VFS itself fails: SQLite looks for "-journal".)
func TestLongDatabaseNameGetsShortSidecar(t *testing.T) {
	dir := filepath.Dir(tempDB(t))
	path := filepath.Join(dir, strings.Repeat("d", 244)+".db")
	name, _ := registerTestVFS(t, wgvfs.Options{})
	c := openConn(t, dsn(path, name))
	mustExec(t, c, "CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	side := sidecar.SidecarPath(path)
	if base := filepath.Base(side); len(base) > sidecar.MaxNameBytes || !strings.HasSuffix(base, "-walguard") || !strings.Contains(base, "~") {
		t.Fatalf("sidecar name %q (%d bytes)", base, len(base))
	}
	if _, err := os.Stat(side); err != nil {
		t.Fatal(err)
	}
	r, err := lockcheck.Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Sidecar.Exists || r.Sidecar.Record == nil || len(r.Sidecar.Participants) != 1 {
		t.Fatalf("check sees sidecar %+v, want the short-named one with this connection", r.Sidecar)
	}
}

// check and Status look at the database a symbolic link names, as SQLite
// does, with its -wal and sidecar next to the target.
func TestSymlinkedDatabaseResolvedLikeSQLite(t *testing.T) {
	path := tempDB(t)
	createTable(t, path, "delete")
	link := filepath.Join(t.TempDir(), "link.db")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	name, g := registerTestVFS(t, wgvfs.Options{})
	c := openConn(t, dsn(link, name))
	mustExec(t, c, "PRAGMA journal_mode=wal; INSERT INTO t VALUES('a', 1)")
	st, err := g.Status(link)
	if err != nil {
		t.Fatal(err)
	}
	if st.DB != path || len(st.Sidecar.Participants) != 1 || st.Sidecar.Record == nil {
		t.Fatalf("Status(link) = db %q, %d live, record %v; want the target with this connection", st.DB, len(st.Sidecar.Participants), st.Sidecar.Record)
	}
	r, err := lockcheck.Inspect(link)
	if err != nil {
		t.Fatal(err)
	}
	if r.Path != path || !r.WAL.Exists || r.WAL.Frames == 0 || len(r.Sidecar.Participants) != 1 {
		t.Fatalf("check(link): path %q, wal %+v, participants %d; want the target's", r.Path, r.WAL, len(r.Sidecar.Participants))
	}
}

func TestStatusOfMissingDatabaseIsAnError(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "never-created.db")
	_, g := registerTestVFS(t, wgvfs.Options{})
	if _, err := g.Status(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("Status of a missing database: %v, want an error naming it that matches fs.ErrNotExist", err)
	}
	if _, err := os.Stat(sidecar.SidecarPath(missing)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("Status created a sidecar")
	}
}

// modeof=/missing fails with ENOENT under IOERR_FSTAT: not retried, not
// reported as "database is locked".
func TestMissingModeofIsNotRetryable(t *testing.T) {
	name, g := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	_, err := sqlite3.Open(dsn(path, name, "modeof=/missing/walguard"))
	if err == nil {
		t.Fatal("open with modeof=/missing succeeded")
	}
	if errclass.Retryable(err) || errors.Is(err, sqlite3.BUSY) || g.Stats().Retries != 0 {
		t.Fatalf("open = %v (class %s, %d retries), want a permanent error, not retried", err, errclass.Classify(err), g.Stats().Retries)
	}
}

// One database, one name, but not one spelling: a symbolic link and a path
// through ".." name the file once, as SQLite resolves them, and writers
// through each are admitted side by side (only hard links are refused).
func TestSymlinkAndDotDotNamesKeepWorking(t *testing.T) {
	path := tempDB(t)
	createTable(t, path, "delete")
	sub := filepath.Join(filepath.Dir(path), "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link.db")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	name, g := registerTestVFS(t, wgvfs.Options{})
	for i, p := range []string{path, link, filepath.Join(sub, "..", filepath.Base(path))} {
		c := openConn(t, dsn(p, name))
		mustExec(t, c, fmt.Sprintf("INSERT INTO t VALUES('w', %d)", i))
	}
	if n := len(g.Stats().Refusals); n != 0 {
		t.Fatalf("refusals %v", g.Stats().Refusals)
	}
	st, err := g.Status(link)
	if err != nil || len(st.Sidecar.Participants) != 1 || len(st.Sidecar.Protocols) != 1 {
		t.Fatalf("%+v (%v), want the three connections in one sidecar, on this process's slot", st.Sidecar, err)
	}
}
