//go:build unix

package walguard_test

import (
	"errors"
	"os"
	"sync/atomic"
	"testing"

	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

// TestIntentOfAClosedSwitcherIsResolvedBesideItsSiblings has the sibling
// run a statement after the switcher closed. An idle sibling (a
// database/sql pool's) never reads the header again, and every other
// process sees the switcher live through the process's slot, so the
// switcher itself tries to record the end of its switch again when it
// closes; left pending, every process would take a header showing the
// switch's From family as "agreed" (headerVerdict), not as a flip without
// walguard.
func TestIntentOfAClosedSwitcherIsResolvedBesideAnIdleSibling(t *testing.T) {
	path := sqltest.TempDB(t)
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, "os"))
	sqltest.Exec(t, c, "PRAGMA journal_mode=delete; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	c.Close()

	var armed, synced, failed atomic.Bool
	hook := func(op, _ string) error {
		if !armed.Load() {
			return nil
		}
		switch {
		case op == "sync":
			synced.Store(true)
		case op == "lock" && synced.Load() && !failed.Load():
			failed.Store(true)
			return errors.New("injected: agreement lock failed")
		}
		return nil
	}
	name := sqltest.Register(t, wgvfs.New(wgvfs.Options{SidecarHook: hook}))
	switcher := sqltest.OpenWaiting(t, sqltest.DSN(path, name))
	sibling := sqltest.OpenWaiting(t, sqltest.DSN(path, name))
	defer sibling.Close()
	sqltest.Exec(t, sibling, "SELECT count(*) FROM t")
	armed.Store(true)
	sqltest.Query(t, switcher, "PRAGMA journal_mode=wal")
	armed.Store(false)
	if !failed.Load() {
		t.Fatal("the end of the switch was never attempted")
	}
	if err := switcher.Close(); err != nil {
		t.Fatal(err)
	}
	// The sibling stays open and idle.

	reader := testproc.Start(t, os.Args[0], "holdwal", "WG_DB="+path)
	reader.Expect("ready")
	st, err := sidecar.ReadStatus(path)
	if err != nil || st.Record == nil {
		t.Fatalf("record: %v", err)
	}
	if st.Record.Switch.Pending {
		t.Errorf("the switch intent of a closed connection stays pending while an idle sibling of its process is open: %+v", st.Record.Switch)
	}
	reader.Wait()
}
