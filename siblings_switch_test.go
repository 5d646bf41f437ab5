//go:build unix

package walguard_test

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

// A switch intent names its switcher by slot and pid; with one slot per
// process, every connection of the switcher's process matches, and other
// processes see the switcher live for as long as any of them is open (a
// database/sql pool: forever). So a switcher whose end of switch could not
// be recorded (endSwitch: the agreement byte or the sidecar failed) leaves
// the intent to its own process's next header read (switchPending), and
// the process's connections joining in memory read the record for
// intents left by a switcher that died.
func TestIntentOfAClosedSwitcherIsResolvedBesideItsSiblings(t *testing.T) {
	path := sqltest.TempDB(t)
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, "os"))
	sqltest.Exec(t, c, "PRAGMA journal_mode=delete; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	c.Close()

	// Armed, the hook fails the first agreement lock after the record's
	// next sync: the intent is written, its end is not.
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
	sqltest.Exec(t, sibling, "SELECT count(*) FROM t")
	armed.Store(true)
	sqltest.Query(t, switcher, "PRAGMA journal_mode=wal")
	armed.Store(false)
	if !failed.Load() {
		t.Fatal("the end of the switch was never attempted")
	}
	st, err := sidecar.ReadStatus(path)
	if err != nil || st.Record == nil || !st.Record.Switch.Pending {
		t.Fatalf("record %+v (%v): want the switch intent left pending", st.Record, err)
	}
	// The switcher is gone; its sibling stays, as a pool's idle
	// connection would.
	if err := switcher.Close(); err != nil {
		t.Fatal(err)
	}
	sqltest.Exec(t, sibling, "SELECT count(*) FROM t")

	// Another process reads under a lock: the switch's connection is
	// gone, so the intent is resolved (the header says WAL: completed).
	reader := testproc.Start(t, os.Args[0], "holdwal", "WG_DB="+path)
	reader.Expect("ready")
	st, err = sidecar.ReadStatus(path)
	if err != nil || st.Record == nil {
		t.Fatalf("record: %v", err)
	}
	if st.Record.Switch.Pending {
		t.Errorf("the switch intent of a closed connection stays pending while a sibling of its process is open: %+v", st.Record.Switch)
	}
	reader.Wait()
	sibling.Close()
}

// An interrupted switch is resolved by a header read under a lock once a
// record read has shown the intent (switchPending). A connection whose
// process already participates joins in memory, and reads the record
// there: an intent left by a switcher that died is resolved by this
// process's new connections too, even while the header shows the family
// this process last confirmed.
func TestSiblingResolvesAnInterruptedSwitch(t *testing.T) {
	for at := 1; ; at++ {
		path := startDatabase(t, "delete")
		name := sqltest.Register(t, wgvfs.New(wgvfs.Options{}))
		first := sqltest.OpenWaiting(t, sqltest.DSN(path, name))
		sqltest.Exec(t, first, "SELECT count(*) FROM t")

		child := testproc.Start(t, os.Args[0], "killswitch", "WG_DB="+path, "WG_TO=wal", fmt.Sprint("WG_KILL_AT=", at))
		_, err := child.Wait()
		st, serr := sidecar.ReadStatus(path)
		if serr != nil || st.Record == nil {
			t.Fatalf("kill at %d: record: %v", at, serr)
		}
		if err == nil {
			t.Fatal("no kill left an intent with the header unchanged: the test proves nothing")
		}
		if !st.Record.Switch.Pending || sqltest.HeaderFamily(t, path) != 1 {
			first.Close()
			continue
		}
		// The switcher is dead and the header still says rollback: the
		// next connection of this process that reads resolves the intent.
		next := sqltest.OpenWaiting(t, sqltest.DSN(path, name))
		sqltest.Exec(t, next, "SELECT count(*) FROM t")
		st, _ = sidecar.ReadStatus(path)
		if st.Record == nil || st.Record.Switch.Pending {
			t.Errorf("kill at %d: a new connection read the database and left the dead switcher's intent pending: %+v", at, st.Record)
		}
		next.Close()
		first.Close()
		return
	}
}
