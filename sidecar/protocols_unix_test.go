//go:build linux || darwin

package sidecar

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/walguard/walguard/policy"
)

// testDB creates an empty database file, so that sidecars mirror on it.
func testDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "app.db")
	if err := os.WriteFile(db, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return db
}

// OthersUseProtocols lists the protocols other opens hold, below and above
// the caller's own, on the sidecar and on the mirror, in order, and never
// the caller's own.
func TestOthersUseProtocols(t *testing.T) {
	db := testDB(t)
	me := openTestSidecar(t, db)
	if err := me.HoldProtocol(policy.ProtocolFlock); err != nil {
		t.Fatal(err)
	}
	if got, err := me.OthersUseProtocols(policy.ProtocolFlock); err != nil || len(got) != 0 {
		t.Fatalf("alone: %v, %v; want none", got, err)
	}
	for _, p := range []policy.Protocol{policy.ProtocolNoLock, policy.ProtocolFlock, policy.ProtocolOFD, policy.ProtocolDotlk} {
		if err := openTestSidecar(t, db).HoldProtocol(p); err != nil {
			t.Fatal(err)
		}
	}
	want := []policy.Protocol{policy.ProtocolOFD, policy.ProtocolDotlk, policy.ProtocolNoLock}
	if got, err := me.OthersUseProtocols(policy.ProtocolFlock); err != nil || !slices.Equal(got, want) {
		t.Fatalf("OthersUseProtocols(flock) = %v, %v; want %v", got, err, want)
	}
}

// A protocol byte held only on the database's mirror (a participant of a
// sidecar that was replaced) counts, and so does a lock that covers the
// whole range at once.
func TestOthersUseProtocolsOnTheMirror(t *testing.T) {
	db := testDB(t)
	me := openTestSidecar(t, db)
	f, err := os.OpenFile(db, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lock := func(off, n int64) {
		t.Helper()
		lk := unix.Flock_t{Type: unix.F_RDLCK, Start: off, Len: n}
		if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
			t.Fatal(err)
		}
	}
	lock(MirrorByte(ProtocolByte(policy.ProtocolPOSIX)), 1)
	if got, err := me.OthersUseProtocols(policy.ProtocolOFD); err != nil || !slices.Equal(got, []policy.Protocol{policy.ProtocolPOSIX}) {
		t.Fatalf("mirror only: %v, %v; want [posix]", got, err)
	}
	lock(MirrorByte(ProtocolByte(0)), 32) // every protocol byte and more
	want := []policy.Protocol{policy.ProtocolPOSIX, policy.ProtocolFlock, policy.ProtocolDotlk, policy.ProtocolNoLock, policy.ProtocolWindows}
	if got, err := me.OthersUseProtocols(policy.ProtocolOFD); err != nil || !slices.Equal(got, want) {
		t.Fatalf("a range lock: %v, %v; want %v", got, err, want)
	}
}

// A sidecar created without a permission takes the database file's, whatever
// the umask.
func TestSidecarTakesTheDatabasePermissions(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	db := testDB(t)
	if err := os.Chmod(db, 0o660); err != nil {
		t.Fatal(err)
	}
	s, err := OpenSidecar(db, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(SidecarPath(db))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o660 {
		t.Fatalf("sidecar mode %v, want the database's 0660", fi.Mode().Perm())
	}
}

// ReadRecordAndSlots reads the record and the slot table at once; the
// participant lists under the same agreement use that copy, and the next
// agreement reads afresh.
func TestReadRecordAndSlotsKeepsTheTableForTheAgreement(t *testing.T) {
	db := testDB(t)
	me := openTestSidecar(t, db)
	if err := me.LockAgreement(time.Second); err != nil {
		t.Fatal(err)
	}
	if err := me.WriteRecord(Record{Family: policy.FamilyWAL, Mode: policy.ModeWAL, Protocol: policy.ProtocolOFD}); err != nil {
		t.Fatal(err)
	}
	rec, err := me.ReadRecordAndSlots()
	if err != nil || rec.Family != policy.FamilyWAL {
		t.Fatalf("ReadRecordAndSlots: %+v, %v", rec, err)
	}
	other := openTestSidecar(t, db)
	if _, err := other.AcquireSlot(); err != nil {
		t.Fatal(err)
	}
	if err := other.WriteSlot(Slot{PID: 7, Protocol: policy.ProtocolOFD, Host: "host-b"}); err != nil {
		t.Fatal(err)
	}
	if live, err := me.ParticipantsOffHost("host-a"); err != nil || len(live) != 0 {
		t.Fatalf("under the agreement that read the table: %v, %v; want the copy read before the entry was written", live, err)
	}
	if err := me.UnlockAgreement(); err != nil {
		t.Fatal(err)
	}
	if live, err := me.ParticipantsOffHost("host-a"); err != nil || len(live) != 1 || live[0].Slot.Host != "host-b" {
		t.Fatalf("after the agreement: %v, %v; want the entry of host-b", live, err)
	}
}
