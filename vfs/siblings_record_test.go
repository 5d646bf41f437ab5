package vfs_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

// A connection whose process already participates joins in memory, but
// reads the record: a record torn while the process participates is
// refused (policy.RecordRefuse) or rebuilt at its connections' opens, as
// at every other process's (invariant 5: detected and rebuilt or refused,
// never trusted). Here the torn record is written in place (the
// same inode, slots kept), as a faulty writer or a bad disk would.
func TestSiblingOpenDetectsATornRecord(t *testing.T) {
	p := policy.Default()
	p.CorruptRecord = policy.RecordRefuse
	name, g := registerTestVFS(t, wgvfs.Options{Policy: &p})
	path := tempDB(t)
	keep := openConn(t, dsn(path, name))
	mustExec(t, keep, "CREATE TABLE t(x)")
	defer keep.Close()

	rec := sidecar.EncodeRecord(sidecar.Record{Generation: 1, Family: policy.FamilyRollback})
	rec[30] ^= 0xff // torn: the checksum no longer matches
	f, err := os.OpenFile(sidecar.SidecarPath(path), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(rec[:], 0); err != nil {
		t.Fatal(err)
	}
	f.Close()

	c, err := sqlite3.Open(dsn(path, name))
	if err == nil {
		defer c.Close()
		err = c.Exec("INSERT INTO t VALUES(1)")
	}
	if r := g.LastRefusal(path); err == nil || r == nil || r.Reason != policy.ReasonSidecarCorrupt || !errors.Is(r, sidecar.ErrChecksum) {
		t.Fatalf("a new connection over a torn record: %v (last refusal %v); want it refused as corrupt, as another process's is", err, r)
	}
}

// Where the filesystem cannot share memory, a flock participant keeps its
// declarations on the sidecar alone (no mirror), agreement byte included;
// a join in memory there takes the sidecar's agreement byte, not only the
// mirror's, or it would not keep such a participant's join or record
// change out. Here the sidecar's byte alone is held, as that participant
// holds it: the second connection of a process must wait for it (BUSY),
// and join once it is free.
func TestJoinInMemoryOnANetworkFilesystemTakesTheSidecarsAgreement(t *testing.T) {
	name, _ := registerTestVFS(t, wgvfs.Options{DetectFS: nfs, AgreementWait: 20 * time.Millisecond})
	path := tempDB(t)
	first := openConn(t, dsn(path, name))
	mustExec(t, first, "CREATE TABLE t(x); INSERT INTO t VALUES(1)")

	noMirror, err := sidecar.OpenSidecar(path, sidecar.OpenOptions{NoMirror: true})
	if err != nil {
		t.Fatal(err)
	}
	defer noMirror.Close()
	if err := noMirror.LockAgreement(0); err != nil {
		t.Fatal(err)
	}
	second, err := sqlite3.Open(dsn(path, name))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := second.Exec("SELECT count(*) FROM t"); !errors.Is(err, sqlite3.BUSY) {
		t.Fatalf("a join while a participant without mirror holds the agreement: %v, want BUSY", err)
	}
	if err := noMirror.UnlockAgreement(); err != nil {
		t.Fatal(err)
	}
	if got := mustQuery(t, second, "SELECT count(*) FROM t"); got != "1" {
		t.Fatalf("after the agreement was released: %s rows", got)
	}
}
