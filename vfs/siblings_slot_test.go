package vfs_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

// A full join whose slot entry could not be written (a transient fault
// after connSide.Join took the slot and the protocol byte) leaves the
// connection open and not admitted, and gives back what it declared
// (connSide.Leave): its retry joins in full and writes the entry. Were it
// admitted in memory instead, its slot would be held with no entry, and
// every reader that goes by entries (ParticipantsOffHost, the cross-host
// WAL check; the participants a refusal names; walguard check) would pass
// over it.
func TestRetryAfterAFailedSlotWriteWritesTheEntry(t *testing.T) {
	path := walDatabase(t)
	var armed, synced, failed atomic.Bool
	hook := func(op, _ string) error {
		if !armed.Load() {
			return nil
		}
		switch {
		case op == "sync":
			synced.Store(true)
		case op == "write" && synced.Load() && !failed.Load():
			failed.Store(true) // the slot entry, after the record's first write
			return fmt.Errorf("injected: %w", sidecar.ErrBusy)
		}
		return nil
	}
	name, _ := registerTestVFS(t, wgvfs.Options{SidecarHook: hook, HostID: "host-a"})
	armed.Store(true)
	c := openConn(t, dsn(path, name))
	defer c.Close()
	armed.Store(false)
	if !failed.Load() {
		t.Fatal("the slot entry's write was never attempted")
	}
	mustQuery(t, c, "SELECT count(*) FROM t")

	st, err := sidecar.ReadStatus(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Participants) != 1 {
		t.Fatalf("participants %+v; want this process's one", st.Participants)
	}
	if p := st.Participants[0]; p.Entry == nil || p.Entry.Host != "host-a" {
		t.Errorf("the live participant's slot entry: %+v; want it written (host-a) once the connection is admitted", p.Entry)
	}
}
