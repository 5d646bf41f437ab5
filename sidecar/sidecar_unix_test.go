//go:build linux || darwin

package sidecar

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/walguard/walguard/policy"
)

func openTestSidecar(t *testing.T, db string) *Sidecar {
	t.Helper()
	s, err := OpenSidecar(db, OpenOptions{Perm: 0o640})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSidecarCreatedWithDatabasePermissions(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	db := filepath.Join(t.TempDir(), "app.db")
	openTestSidecar(t, db)
	fi, err := os.Stat(SidecarPath(db))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Fatalf("sidecar mode %v, want 0640 despite the umask", fi.Mode().Perm())
	}
}

func TestSidecarRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	target := filepath.Join(dir, "target")
	if err := os.Symlink(target, SidecarPath(db)); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSidecar(db, OpenOptions{}); !errors.Is(err, ErrSymlink) {
		t.Fatalf("OpenSidecar over a dangling symlink: %v, want ErrSymlink", err)
	}
	if err := os.WriteFile(target, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSidecar(db, OpenOptions{}); !errors.Is(err, ErrSymlink) {
		t.Fatalf("OpenSidecar over a symlink to a file: %v, want ErrSymlink", err)
	}
	if _, err := ReadSnapshot(db); !errors.Is(err, ErrSymlink) {
		t.Fatalf("ReadSnapshot over a symlink: %v, want ErrSymlink", err)
	}
}

func TestSidecarRecordRoundTripAndHook(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	s := openTestSidecar(t, db)
	if _, err := s.ReadRecord(); !errors.Is(err, ErrNoRecord) {
		t.Fatalf("fresh sidecar: %v, want ErrNoRecord", err)
	}
	want := Record{Generation: 3, Family: policy.FamilyWAL, Mode: policy.ModeWAL, Protocol: policy.ProtocolOFD,
		Reason: policy.ReasonPragma, SetterPID: 42, SetAt: time.Unix(0, 1234).UTC(), Host: "h", Program: "p"}
	if err := s.LockAgreement(time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteRecord(want); err != nil {
		t.Fatal(err)
	}
	s.UnlockAgreement()
	got, err := s.ReadRecord()
	if err != nil || got.Generation != 3 || got.Family != policy.FamilyWAL || got.Host != "h" || !got.SetAt.Equal(want.SetAt) {
		t.Fatalf("read back %+v, %v", got, err)
	}

	injected := errors.New("injected")
	h, err := OpenSidecar(db, OpenOptions{Hook: func(op, path string) error {
		if op == "write" && path == SidecarPath(db) {
			return injected
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.WriteRecord(want); !errors.Is(err, injected) {
		t.Fatalf("hooked write: %v, want the injected error", err)
	}
}

func TestAgreementByteExcludesOtherOpens(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	a, b := openTestSidecar(t, db), openTestSidecar(t, db)
	if err := a.LockAgreement(time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.LockAgreement(10 * time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Fatalf("second agreement lock: %v, want ErrBusy", err)
	}
	snap, err := ReadSnapshot(db)
	if err != nil || !snap.AgreementHeld {
		t.Fatalf("snapshot %+v %v, want the agreement byte seen held", snap, err)
	}
	a.UnlockAgreement()
	if err := b.LockAgreement(time.Second); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}

func TestSlotsFamiliesAndProtocolsAreLiveLocks(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	a, b := openTestSidecar(t, db), openTestSidecar(t, db)
	ia, err := a.AcquireSlot()
	if err != nil {
		t.Fatal(err)
	}
	ib, err := b.AcquireSlot()
	if err != nil || ib == ia {
		t.Fatalf("slots %d and %d (%v): two opens must own two slots", ia, ib, err)
	}
	if err := a.WriteSlot(Slot{PID: 1, Protocol: policy.ProtocolOFD, Host: "h"}); err != nil {
		t.Fatal(err)
	}
	if err := a.HoldProtocol(policy.ProtocolOFD); err != nil {
		t.Fatal(err)
	}
	if err := a.HoldFamily(policy.FamilyWAL); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  func() (bool, error)
		want bool
	}{
		{"b sees ofd", func() (bool, error) { return b.OthersUseProtocol(policy.ProtocolOFD) }, true},
		{"a does not see itself", func() (bool, error) { return a.OthersUseProtocol(policy.ProtocolOFD) }, false},
		{"b sees wal", func() (bool, error) { return b.OthersUseFamily(policy.FamilyWAL) }, true},
		{"b sees no rollback", func() (bool, error) { return b.OthersUseFamily(policy.FamilyRollback) }, false},
	} {
		if got, err := c.got(); err != nil || got != c.want {
			t.Errorf("%s: %v %v", c.name, got, err)
		}
	}
	live, err := b.Participants()
	if err != nil || len(live) != 1 || live[0].Index != ia || live[0].Slot.PID != 1 {
		t.Fatalf("b's view of participants: %+v %v", live, err)
	}
	if err := a.HoldFamily(policy.FamilyRollback); err != nil {
		t.Fatal(err)
	}
	if wal, _ := b.OthersUseFamily(policy.FamilyWAL); wal {
		t.Fatal("switching family left the WAL byte held")
	}

	// Closing an open is what a dying process does: every lock goes.
	a.Close()
	if live, _ := b.Participants(); len(live) != 0 {
		t.Fatalf("participants after close: %+v", live)
	}
	if ofd, _ := b.OthersUseProtocol(policy.ProtocolOFD); ofd {
		t.Fatal("protocol byte still held after close")
	}
	snap, err := ReadSnapshot(db)
	if err != nil || len(snap.Participants) != 1 || snap.Participants[0].Index != ib {
		t.Fatalf("snapshot %+v %v, want b alone", snap.Participants, err)
	}
}

func TestSlotsRunOut(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	for range MaxSlots {
		if _, err := openTestSidecar(t, db).AcquireSlot(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := openTestSidecar(t, db).AcquireSlot(); !errors.Is(err, ErrSlotsFull) {
		t.Fatalf("slot %d: %v, want ErrSlotsFull", MaxSlots+1, err)
	}
}

func TestSnapshotOfMissingSidecar(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	snap, err := ReadSnapshot(db)
	if err != nil || snap.Exists {
		t.Fatalf("%+v %v", snap, err)
	}
	if _, err := os.Stat(SidecarPath(db)); !os.IsNotExist(err) {
		t.Fatal("ReadSnapshot created the sidecar")
	}
}
