//go:build linux

package walguard_test

import (
	"os"
	"syscall"
	"testing"

	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/lockcheck"
	wgvfs "github.com/walguard/walguard/vfs"
)

// A process's slot is held while one of its connections is admitted, not
// while one is open: a connection refused at admit declares nothing, and
// when the last admitted one closes the protocol byte and the slot go
// together. Were the slot and its entry ("protocol ofd") kept, a
// participant of another protocol admitted meanwhile (rightly: this
// process declares nothing) would show in walguard check as "live
// participants lock with different protocols".
func TestRefusedSiblingLeavesNoStaleSlot(t *testing.T) {
	path := sqltest.TempDB(t)
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, "os"))
	sqltest.Exec(t, c, "PRAGMA journal_mode=delete; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	c.Close()

	name := sqltest.Register(t, wgvfs.New(wgvfs.Options{}))
	admitted := sqltest.OpenWaiting(t, sqltest.DSN(path, name))
	sqltest.Exec(t, admitted, "SELECT count(*) FROM t")

	// A flock holder of another build is live while the sibling opens:
	// the sibling is refused (retryably) and stays open, not admitted.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		t.Fatal(err)
	}
	refused := sqltest.Open(t, sqltest.DSN(path, name))
	defer refused.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if err := admitted.Close(); err != nil {
		t.Fatal(err)
	}

	// This process declares nothing now: a nolock participant is
	// admitted, and nothing disagrees.
	nolock := testproc.Start(t, os.Args[0], "nolock", "WG_DB="+path)
	nolock.Expect("ready")
	r, err := lockcheck.Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range r.Hazards {
		if h.Code == lockcheck.HazardParticipantsDisagree {
			t.Errorf("walguard check reports %s: %s (participants %+v)", h.Code, h.Message, r.Sidecar.Participants)
		}
	}
	nolock.Wait()
}
