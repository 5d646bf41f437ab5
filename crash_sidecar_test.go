package walguard_test

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/lockcheck"
	"github.com/walguard/walguard/sidecar"
)

func init() { childRoles["sidecarcrash"] = childSidecarCrash }

// childSidecarCrash creates a table in WG_DB and writes a row through a
// walguard whose WG_K-th sidecar write (record or slot entry) never
// happens: the process is killed with SIGKILL just before it. It prints
// "writes N" if it finished without reaching the K-th write.
func childSidecarCrash() {
	k, _ := strconv.Atoi(os.Getenv("WG_K"))
	writes := 0
	walguard.Register("crashing", walguard.Options{SidecarHook: func(op, path string) error {
		if op == "write" {
			if writes++; writes == k {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		}
		return nil
	}})
	c, err := sqlite3.Open("file:" + os.Getenv("WG_DB") + "?vfs=crashing")
	if err != nil {
		childFatal("open: %v", err)
	}
	if err := c.Exec("PRAGMA journal_mode=wal; CREATE TABLE IF NOT EXISTS t(x); INSERT INTO t VALUES(1)"); err != nil {
		childFatal("write: %v", err)
	}
	c.Close()
	fmt.Println("writes", writes)
}

// A process killed at each of its sidecar writes leaves nothing that keeps
// the next one out or misleads it: the next walguard connection is
// admitted at once, writes, and check finds no hazard.
func TestKilledAtEachSidecarWrite(t *testing.T) {
	for k := 1; ; k++ {
		path := sqltest.TempDB(t)
		child := testproc.Start(t, os.Args[0], "sidecarcrash", "WG_DB="+path, fmt.Sprint("WG_K=", k))
		lines, err := child.Wait()
		finished := err == nil
		c, oerr := sqlite3.Open(sqltest.DSN(path, walguard.VFSName))
		if oerr != nil {
			t.Fatalf("k=%d: open after the kill: %v", k, oerr)
		}
		c.BusyTimeout(0)
		if err := c.Exec("CREATE TABLE IF NOT EXISTS t(x); INSERT INTO t VALUES(2)"); err != nil {
			t.Fatalf("k=%d: write after the kill: %v", k, err)
		}
		if got := sqltest.Query(t, c, "PRAGMA integrity_check"); got != "ok" {
			t.Fatalf("k=%d: integrity_check %s", k, got)
		}
		c.Close()
		r, err := lockcheck.Inspect(path)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Consistent() || r.Sidecar.ReplacedWhileInUse {
			t.Fatalf("k=%d: check after the kill: %+v", k, r.Hazards)
		}
		if snap, _ := sidecar.ReadSnapshot(path); len(snap.Participants) != 0 || len(snap.Unlisted) != 0 {
			t.Fatalf("k=%d: participants left behind: %+v", k, snap)
		}
		if finished {
			t.Logf("killed before each of the first %d sidecar writes; then %q", k-1, lines)
			if k < 3 {
				t.Fatalf("the child finished after %d sidecar writes (%q): the test killed too few", k-1, lines)
			}
			return
		}
	}
}
