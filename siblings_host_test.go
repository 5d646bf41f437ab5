//go:build unix

package walguard_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

func init() { childRoles["otherhost"] = childOtherHost }

// childOtherHost reads WG_DB through walguard as host "host-b" and
// prints "read" or "refused REASON".
func childOtherHost() {
	g := wgvfs.New(wgvfs.Options{HostID: "host-b"})
	vfs.Register("walguard-host-b", g)
	db := os.Getenv("WG_DB")
	c, err := sqlite3.Open("file:" + db + "?vfs=walguard-host-b")
	if err == nil {
		err = c.Exec("SELECT count(*) FROM t")
		c.Close()
	}
	if r := g.LastRefusal(db); r != nil {
		fmt.Println("refused", r.Reason)
		return
	}
	if err != nil {
		childFatal("read: %v", err)
	}
	fmt.Println("read")
}

// What vfs.TestRetryAfterAFailedSlotWriteWritesTheEntry prevents: a
// process whose first join could not write its slot entry (a transient
// fault) must write it at its retry, in full; admitted in memory without
// an entry, a process of another host would join WAL beside it, since the
// cross-host test (ParticipantsOffHost) goes by entries, and WAL's shared
// memory cannot span hosts.
func TestOtherHostRefusedBesideARetriedJoin(t *testing.T) {
	path := sqltest.TempDB(t)
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, "os"))
	sqltest.Exec(t, c, "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	c.Close()

	// The slot entry's write, after the record's first: a transient fault.
	h := &failAfterSync{op: "write", err: fmt.Errorf("injected: %w", sidecar.ErrBusy)}
	name := sqltest.Register(t, wgvfs.New(wgvfs.Options{SidecarHook: h.hook, HostID: "host-a"}))
	h.armed.Store(true)
	here := sqltest.OpenWaiting(t, sqltest.DSN(path, name))
	defer here.Close()
	h.armed.Store(false)
	sqltest.Query(t, here, "SELECT count(*) FROM t")
	if st, err := sidecar.ReadStatus(path); err != nil || len(st.Families) != 1 || st.Families[0].String() != "wal" {
		t.Fatalf("status %+v, %v: want this process declaring WAL", st, err)
	}

	other := testproc.Start(t, os.Args[0], "otherhost", "WG_DB="+path)
	lines, err := other.Wait()
	if err != nil || len(lines) == 0 {
		t.Fatalf("other host: %q, %v", lines, err)
	}
	if lines[len(lines)-1] == "read" {
		t.Errorf("a process of another host read in WAL beside this host's WAL participant (slot entry fault injected: %v)", h.failed.Load())
	}
	t.Logf("other host: %q", lines)
}
