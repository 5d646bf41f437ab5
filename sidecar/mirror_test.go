//go:build linux || darwin

package sidecar

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/walguard/walguard/internal/filelock"
	"github.com/walguard/walguard/policy"
)

// A participant of a removed sidecar still counts for every newcomer: its
// declarations and its slot are on the database's mirror bytes.
func TestMirrorSurvivesRemovedSidecar(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	if err := os.WriteFile(db, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	old := openTestSidecar(t, db)
	slot, err := old.AcquireSlot()
	if err != nil {
		t.Fatal(err)
	}
	if err := old.HoldProtocol(policy.ProtocolOFD); err != nil {
		t.Fatal(err)
	}
	if err := old.HoldFamily(policy.FamilyRollback); err != nil {
		t.Fatal(err)
	}
	snap, err := ReadSnapshot(db)
	if err != nil || snap.Replaced || !snap.MirrorRead {
		t.Fatalf("in place: replaced %v, mirror read %v, %v; want not replaced", snap.Replaced, snap.MirrorRead, err)
	}
	if err := os.Remove(SidecarPath(db)); err != nil {
		t.Fatal(err)
	}

	snap, err = ReadSnapshot(db)
	if err != nil || !snap.Replaced || snap.Exists || !slices.Equal(snap.Unlisted, []int{slot}) ||
		!slices.Contains(snap.Protocols, policy.ProtocolOFD) || !slices.Contains(snap.Families, policy.FamilyRollback) {
		t.Fatalf("removed: %+v, %v; want replaced, slot %d unlisted, ofd and rollback shown", snap, err, slot)
	}

	fresh := openTestSidecar(t, db)
	if held, err := fresh.OthersUseProtocol(policy.ProtocolOFD); err != nil || !held {
		t.Fatalf("ofd held elsewhere: %v %v, want true", held, err)
	}
	if held, err := fresh.OthersUseFamily(policy.FamilyRollback); err != nil || !held {
		t.Fatalf("rollback held elsewhere: %v %v, want true", held, err)
	}
	if live, err := fresh.LiveElsewhere(); err != nil || !live {
		t.Fatalf("LiveElsewhere: %v %v", live, err)
	}
	if got, err := fresh.AcquireSlot(); err != nil || got == slot {
		t.Fatalf("slot %d (%v): the old participant's slot %d is taken on the mirror", got, err, slot)
	}
	if err := fresh.LockAgreement(0); err != nil {
		t.Fatal(err)
	}
	if err := old.LockAgreement(0); err == nil {
		t.Fatal("two sidecars of one database held the agreement at once")
	}
	fresh.UnlockAgreement()

	// A mirror byte never outlives its sidecar byte for one in place.
	old.ReleaseFamily()
	if held, _ := filelock.Test(fresh.f, FamilyByte(policy.FamilyRollback)); held {
		t.Fatal("family still held on the sidecar")
	}
	old.Close()
	if held, err := fresh.OthersUseProtocol(policy.ProtocolOFD); err != nil || held {
		t.Fatalf("after the old participant closed: %v %v, want nothing held", held, err)
	}
}
