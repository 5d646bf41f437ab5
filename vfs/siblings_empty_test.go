package vfs_test

import (
	"os"
	"testing"

	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

// A join in memory over a sidecar truncated to nothing (the same inode,
// every byte gone: the record is not there) goes to the full join, which
// rebuilds the record (ErrNoRecord: repairCreate), as any other process's
// would: RecordPending's cache starts empty (recN -1), so "0 bytes" is
// never taken for an unchanged record.
func TestSiblingOpenOverAnEmptiedSidecarRebuildsTheRecord(t *testing.T) {
	name, _ := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	keep := openConn(t, dsn(path, name))
	defer keep.Close()
	mustExec(t, keep, "CREATE TABLE t(x)")

	if err := os.Truncate(sidecar.SidecarPath(path), 0); err != nil {
		t.Fatal(err)
	}

	c := openConn(t, dsn(path, name))
	defer c.Close()
	mustExec(t, c, "INSERT INTO t VALUES(1)")

	s, err := sidecar.OpenSidecar(path, sidecar.OpenOptions{NoMirror: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.ReadRecord(); err != nil {
		t.Fatalf("after a second connection of the process joined over an emptied sidecar, the record: %v; want it rebuilt, as a full join does", err)
	}
}
