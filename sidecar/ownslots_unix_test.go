//go:build linux || darwin

package sidecar

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walguard/walguard/policy"
)

// countProbes counts AcquireSlot's lock attempts until the test ends.
func countProbes(t *testing.T) *int {
	t.Helper()
	n := new(int)
	orig := trySlot
	trySlot = func(s *Sidecar, i int) error { *n++; return orig(s, i) }
	t.Cleanup(func() { trySlot = orig })
	return n
}

// A join costs one lock attempt however many connections of this process
// are live: their slots are skipped, not probed.
func TestAcquireSlotSkipsThisProcessesSlots(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	probes := countProbes(t)
	opens := make([]*Sidecar, 100)
	for i := range opens {
		opens[i] = openTestSidecar(t, db)
		*probes = 0
		slot, err := opens[i].AcquireSlot()
		if err != nil || slot != i {
			t.Fatalf("open %d: slot %d, %v; want slot %d", i, slot, err, i)
		}
		if *probes != 1 {
			t.Fatalf("open %d with %d live: %d lock attempts, want 1", i, i, *probes)
		}
	}
	// A closed open's slot is free again, and the first free one is taken.
	opens[42].Close()
	*probes = 0
	if slot, err := openTestSidecar(t, db).AcquireSlot(); err != nil || slot != 42 || *probes != 1 {
		t.Fatalf("after closing slot 42: slot %d, %v, %d lock attempts; want 42 in 1", slot, err, *probes)
	}
}

// Slots owned by another open that this process does not know of (here: a
// second name for the sidecar, as another process would be) are probed
// and skipped.
func TestAcquireSlotProbesSlotsOwnedElsewhere(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	first := openTestSidecar(t, db)
	if _, err := first.AcquireSlot(); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.db")
	if err := os.Link(SidecarPath(db), SidecarPath(link)); err != nil {
		t.Fatal(err)
	}
	probes := countProbes(t)
	if slot, err := openTestSidecar(t, link).AcquireSlot(); err != nil || slot != 1 || *probes != 2 {
		t.Fatalf("slot %d, %v, %d lock attempts; want slot 1 after 2", slot, err, *probes)
	}
}

// ParticipantsOffHost lists live participants of other hosts only, and
// passes over this host's entries even when the host identity is longer
// than an entry keeps.
func TestParticipantsOffHost(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	long := strings.Repeat("this-host-", 6) // 60 bytes: stored cut to 47
	for _, host := range []string{"other-host", long, long} {
		s := openTestSidecar(t, db)
		if _, err := s.AcquireSlot(); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteSlot(Slot{PID: 1, Protocol: policy.ProtocolOFD, Host: host}); err != nil {
			t.Fatal(err)
		}
	}
	// A closed participant's entry stays, but is not live.
	gone := openTestSidecar(t, db)
	if _, err := gone.AcquireSlot(); err != nil {
		t.Fatal(err)
	}
	if err := gone.WriteSlot(Slot{PID: 2, Protocol: policy.ProtocolOFD, Host: "gone-host"}); err != nil {
		t.Fatal(err)
	}
	gone.Close()

	live, err := openTestSidecar(t, db).ParticipantsOffHost(long)
	if err != nil || len(live) != 1 || live[0].Slot.Host != "other-host" || live[0].Index != 0 {
		t.Fatalf("participants off host: %+v, %v; want slot 0 of other-host alone", live, err)
	}
}
