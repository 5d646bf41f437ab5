//go:build unix

package walguard_test

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/ncruces/go-sqlite3"

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
	path, switcher, sibling := switchWithFailedEnd(t)
	defer sibling.Close()
	st, err := sidecar.ReadStatus(path)
	if err != nil || st.Record == nil || !st.Record.Switch.Pending {
		t.Fatalf("record %+v (%v): want the switch intent left pending", st.Record, err)
	}
	// The switcher is gone; its sibling stays, and reads.
	if err := switcher.Close(); err != nil {
		t.Fatal(err)
	}
	sqltest.Exec(t, sibling, "SELECT count(*) FROM t")
	expectIntentResolved(t, path, "while a sibling of its process is open")
}

// expectIntentResolved has another process read the database at path
// under a lock, and fails the test if the record still holds a switch
// intent then.
func expectIntentResolved(t *testing.T, path, while string) {
	t.Helper()
	reader := testproc.Start(t, os.Args[0], "holdwal", "WG_DB="+path)
	reader.Expect("ready")
	st, err := sidecar.ReadStatus(path)
	if err != nil || st.Record == nil {
		t.Fatalf("record: %v", err)
	}
	if st.Record.Switch.Pending {
		t.Errorf("the switch intent of a closed connection stays pending %s: %+v", while, st.Record.Switch)
	}
	reader.Wait()
}

// failAfterSync is a sidecar hook that, while armed, fails the first
// operation op that follows the record's next sync with err: the record
// is written, what comes after it is not.
type failAfterSync struct {
	op                    string
	err                   error
	armed, synced, failed atomic.Bool
}

func (h *failAfterSync) hook(op, _ string) error {
	if !h.armed.Load() {
		return nil
	}
	switch {
	case op == "sync":
		h.synced.Store(true)
	case op == h.op && h.synced.Load() && !h.failed.Load():
		h.failed.Store(true)
		return h.err
	}
	return nil
}

// switchWithFailedEnd makes a rollback database with one row, opens two
// connections of this process on it through walguard, reads through the
// second (the sibling), and switches the first (the switcher) to WAL
// with the end of its switch failing (the agreement lock after the
// intent's sync): the intent is left pending.
func switchWithFailedEnd(t *testing.T) (path string, switcher, sibling *sqlite3.Conn) {
	t.Helper()
	path = sqltest.TempDB(t)
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, "os"))
	sqltest.Exec(t, c, "PRAGMA journal_mode=delete; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	c.Close()
	h := &failAfterSync{op: "lock", err: errors.New("injected: agreement lock failed")}
	name := sqltest.Register(t, wgvfs.New(wgvfs.Options{SidecarHook: h.hook}))
	switcher = sqltest.OpenWaiting(t, sqltest.DSN(path, name))
	sibling = sqltest.OpenWaiting(t, sqltest.DSN(path, name))
	sqltest.Exec(t, sibling, "SELECT count(*) FROM t")
	h.armed.Store(true)
	sqltest.Query(t, switcher, "PRAGMA journal_mode=wal")
	h.armed.Store(false)
	if !h.failed.Load() {
		t.Fatal("the end of the switch was never attempted")
	}
	return path, switcher, sibling
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
