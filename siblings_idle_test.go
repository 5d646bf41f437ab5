//go:build unix

package walguard_test

import "testing"

// TestIntentOfAClosedSwitcherIsResolvedBesideItsSiblings has the sibling
// run a statement after the switcher closed. An idle sibling (a
// database/sql pool's) never reads the header again, and every other
// process sees the switcher live through the process's slot, so the
// switcher itself tries to record the end of its switch again when it
// closes; left pending, every process would take a header showing the
// switch's From family as "agreed" (headerVerdict), not as a flip without
// walguard.
func TestIntentOfAClosedSwitcherIsResolvedBesideAnIdleSibling(t *testing.T) {
	path, switcher, sibling := switchWithFailedEnd(t)
	defer sibling.Close()
	if err := switcher.Close(); err != nil {
		t.Fatal(err)
	}
	// The sibling stays open and idle.
	expectIntentResolved(t, path, "while an idle sibling of its process is open")
}
