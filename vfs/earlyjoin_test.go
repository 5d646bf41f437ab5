package vfs_test

import (
	"slices"
	"testing"
	"time"

	"github.com/walguard/walguard/faultvfs"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

// A connection to a database whose header says WAL declares the WAL family
// in its protocol join: its first read opens the -wal without taking the
// agreement byte a second time (one join per connection, not two).
func TestWALDeclaredInTheProtocolJoin(t *testing.T) {
	path := walDatabase(t)
	name, g := registerTestVFS(t, wgvfs.Options{})
	c := openConn(t, dsn(path, name))
	defer c.Close()
	if got := g.Stats().Joins; got != 1 {
		t.Fatalf("after open: %d joins, want 1", got)
	}
	mustQuery(t, c, "SELECT x FROM t")
	mustExec(t, c, "INSERT INTO t VALUES(2)")
	if got := g.Stats().Joins; got != 1 {
		t.Fatalf("after a read and a write: %d joins, want the one of the open", got)
	}
	snap, err := sidecar.ReadSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(snap.Families, []policy.Family{policy.FamilyWAL}) || len(snap.Participants) != 1 ||
		snap.Participants[0].Slot.Family != policy.FamilyWAL {
		t.Fatalf("families %v, participants %+v: want WAL declared and described once", snap.Families, snap.Participants)
	}
}

// A WAL declared at the protocol join is given back when the -wal cannot
// be opened, as a join at the -wal open would be: a connection does not
// keep others out with a family it never got a file for.
func TestEarlyWALGivenBackWhenWALOpenFails(t *testing.T) {
	fv, guarded, _, path := settledWAL(t, 3)
	fv.Add(faultvfs.Rule{Name: "wal-eio", Ops: faultvfs.OpOpen, Kinds: faultvfs.KindWAL})
	c := openConn(t, dsn(path, guarded))
	defer c.Close()
	c.BusyTimeout(20 * time.Millisecond)
	if err := c.Exec("SELECT x FROM t"); err == nil {
		t.Fatal("read with -wal failing: no error")
	}
	snap, err := sidecar.ReadSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Families) != 0 || len(snap.Participants) != 1 {
		t.Fatalf("families %v, participants %d: want the connection live with no family declared", snap.Families, len(snap.Participants))
	}
}

// Two connections of one process declare WAL early, the second in memory
// on the process's participation: one closing leaves the other's
// declarations whole.
func TestEarlyWALOneOfTwoCloses(t *testing.T) {
	path := walDatabase(t)
	name, g := registerTestVFS(t, wgvfs.Options{})
	c1 := openConn(t, dsn(path, name))
	c2 := openConn(t, dsn(path, name))
	defer c2.Close()
	mustQuery(t, c1, "SELECT x FROM t")
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}
	snap, err := sidecar.ReadSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(snap.Families, []policy.Family{policy.FamilyWAL}) || len(snap.Protocols) != 1 ||
		len(snap.Participants) != 1 || snap.Participants[0].Slot.Family != policy.FamilyWAL {
		t.Fatalf("after one of two closed: protocols %v, families %v, participants %+v; want the other whole",
			snap.Protocols, snap.Families, snap.Participants)
	}
	mustExec(t, c2, "INSERT INTO t VALUES(3)")
	if got := g.Stats().Joins; got != 1 {
		t.Fatalf("%d joins under the agreement byte for two connections of one process, want 1", got)
	}
}
