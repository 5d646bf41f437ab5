//go:build linux

package walguard_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
)

// A connection whose process already participates joins in memory, and
// probes the database for holders of SQLite's own locks. The flock probe
// has no test call: it takes LOCK_EX|LOCK_NB on the process's mirror
// descriptor and gives it back, so two probes at once would each see the
// other as a flock holder and refuse a connection of the same build, which
// agrees, for a "locking protocol mismatch" (invariant 8). Every probe
// runs under the agreement byte, its mirror at least (joinInMemory).

func init() {
	childRoles["siblingchurn"] = childSiblingChurn
}

// childSiblingChurn keeps one connection to WG_DB open, prints "ready",
// waits for a line, then opens, reads through and closes WG_N sibling
// connections, and prints every refusal it met ("refusals ..."), then
// "done".
func childSiblingChurn() {
	db := os.Getenv("WG_DB")
	n, _ := strconv.Atoi(os.Getenv("WG_N"))
	name, g := childVFS()
	uri := "file:" + db + "?vfs=" + name
	keep, err := sqlite3.Open(uri)
	if err != nil {
		childFatal("open: %v", err)
	}
	defer keep.Close()
	if err := keep.Exec("SELECT count(*) FROM t"); err != nil {
		childFatal("read: %v", err)
	}
	fmt.Println("ready")
	testproc.ReadLine()
	for i := 0; i < n; i++ {
		c, err := sqlite3.Open(uri)
		if err != nil {
			childFatal("open %d: %v", i, err)
		}
		c.Close()
	}
	var refusals []string
	for r, k := range g.Stats().Refusals {
		refusals = append(refusals, fmt.Sprintf("%s=%d", r, k))
	}
	if r := g.LastRefusal(db); r != nil {
		refusals = append(refusals, "last: "+r.Error())
	}
	fmt.Println("refusals", strings.Join(refusals, "; "))
	fmt.Println("done")
}

// TestSiblingProbesNeverRefuseTheSameBuild: two processes of one
// build (OFD), each keeping a connection open and opening more: every one
// agrees, so none may be refused.
func TestSiblingProbesNeverRefuseTheSameBuild(t *testing.T) {
	path := sqltest.TempDB(t)
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, "os"))
	sqltest.Exec(t, c, "PRAGMA journal_mode=wal; CREATE TABLE t(x)")
	c.Close()
	const n = 3000
	var kids []*testproc.Child
	for range 2 {
		k := testproc.Start(t, os.Args[0], "siblingchurn", "WG_DB="+path, fmt.Sprint("WG_N=", n))
		k.Expect("ready")
		kids = append(kids, k)
	}
	for _, k := range kids {
		k.Send("go")
	}
	for i, k := range kids {
		if got := k.Expect("refusals"); got != "refusals " {
			t.Errorf("child %d, of the same build as its peer, was refused: %s", i, got)
		}
		k.Expect("done")
	}
}
