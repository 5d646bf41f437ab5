package vfs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/errclass"
	"github.com/walguard/walguard/policy"
	wgvfs "github.com/walguard/walguard/vfs"
)

func nfs(string) (wgvfs.FSInfo, error) { return wgvfs.FSInfo{Type: "nfs", SharesMemory: false}, nil }

// A filesystem that cannot share memory settles the rollback family at
// first open, with the filesystem named as the reason, and WAL is refused
// with a message that says why.
func TestNetworkFilesystemAgreesOnRollback(t *testing.T) {
	name, g := registerTestVFS(t, wgvfs.Options{DetectFS: nfs})
	path := tempDB(t)
	c := openConn(t, dsn(path, name))
	_, err := queryText(c, "PRAGMA journal_mode=wal")
	if err == nil || !strings.Contains(err.Error(), policy.ReasonWALUnsupported.String()) ||
		!strings.Contains(err.Error(), "nfs") || errors.Is(err, sqlite3.BUSY) {
		t.Fatalf("journal_mode=wal on nfs: %v, want a non-BUSY refusal naming the filesystem", err)
	}
	if errclass.Classify(err) == policy.ClassTransient || errclass.Classify(err) == policy.ClassMismatch {
		t.Fatalf("Classify = %v, want not retryable", errclass.Classify(err))
	}
	mustExec(t, c, "CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	if got := mustQuery(t, c, "PRAGMA journal_mode"); got != "delete" {
		t.Fatalf("journal_mode = %s, want delete", got)
	}
	st, _ := g.Status(path)
	if st.Sidecar.Record == nil || st.Sidecar.Record.Family != policy.FamilyRollback || st.Sidecar.Record.Reason != policy.ReasonNetworkFS ||
		!strings.Contains(st.Sidecar.Record.Detail, "nfs") || st.FileSystem != "nfs" {
		t.Fatalf("record %+v fs %q, want rollback settled for nfs", st.Sidecar.Record, st.FileSystem)
	}

	// A process on a filesystem it thinks is local still reads the settled
	// record: WAL stays refused for every later participant.
	c.Close()
	local, _ := registerTestVFS(t, wgvfs.Options{})
	c2 := openConn(t, dsn(path, local))
	if _, err := queryText(c2, "PRAGMA journal_mode=wal"); err == nil || !strings.Contains(err.Error(), "agreed family is rollback") {
		t.Fatalf("journal_mode=wal after the settle: %v, want refused", err)
	}
}

// The same detector answer with the policy trusting the filesystem lets
// WAL through: the choice is the policy's.
func TestNetworkFilesystemPolicyAllowsWAL(t *testing.T) {
	p := policy.Default()
	p.NetworkFS = policy.NetworkFSAllowWAL
	name, _ := registerTestVFS(t, wgvfs.Options{DetectFS: nfs, Policy: &p})
	c := openConn(t, dsn(tempDB(t), name))
	if got := mustQuery(t, c, "PRAGMA journal_mode=wal"); got != "wal" {
		t.Fatalf("journal_mode = %s, want wal", got)
	}
}

// WAL's shared memory cannot span hosts: a WAL participant is refused
// while a participant on another host is live, and admitted once it is gone.
func TestSecondHostWALRefused(t *testing.T) {
	hostA, _ := registerTestVFS(t, wgvfs.Options{HostID: "host-a"})
	hostB, gb := registerTestVFS(t, wgvfs.Options{HostID: "host-b"})
	path := tempDB(t)
	a := openConn(t, dsn(path, hostA))
	mustExec(t, a, "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES(1)")

	b := openConn(t, dsn(path, hostB))
	b.BusyTimeout(0)

	if _, err := queryText(b, "SELECT x FROM t"); !errors.Is(err, sqlite3.BUSY) {
		t.Fatalf("WAL read from a second host: %v, want BUSY", err)
	}
	if r := gb.LastRefusal(path); r == nil || r.Reason != policy.ReasonSecondHost || !strings.Contains(r.Error(), "host-a") {
		t.Fatalf("refusal %v, want second host naming host-a", r)
	}
	a.Close()
	if got := mustQuery(t, b, "SELECT x FROM t"); got != "1" {
		t.Fatalf("read after host-a left: %s", got)
	}
}

// Two connections of one process are two participants: a nolock=1
// connection is refused while another is live, and the reverse.
func TestNoLockConnectionRefusedWhileOthersLive(t *testing.T) {
	name, g := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	c := openConn(t, dsn(path, name))
	mustExec(t, c, "CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	n := openConn(t, dsn(path, name, "nolock=1"))
	n.BusyTimeout(0)
	if _, err := queryText(n, "SELECT x FROM t"); !errors.Is(err, sqlite3.BUSY) {
		t.Fatalf("nolock read while another connection is live: %v, want BUSY", err)
	}
	if r := g.LastRefusal(path); r == nil || r.Reason != policy.ReasonNoLock {
		t.Fatalf("refusal %v, want nolock", r)
	}
	c.Close()
	if got := mustQuery(t, n, "SELECT x FROM t"); got != "1" {
		t.Fatalf("nolock read alone: %s", got)
	}
}
