package sidecar

import (
	"math/bits"
	"sync"
)

// A slot's byte is locked per open file (internal/filelock), so the slots
// this process's own opens of a sidecar hold are taken to every other
// open, this process's included: probing one can only fail. AcquireSlot
// skips them without a system call, so that with n connections of one
// process on a database a join costs one lock attempt, not n+1, each of
// which walks the kernel's list of the file's locks. Slots of other
// processes are still probed, one call each.
//
// The set is a hint, never trusted for correctness: a slot is owned only
// once its lock is taken, and a slot the set misses (another name for the
// same sidecar, a race between two joins) just costs a failed probe.

// slotSet has one bit per participant slot.
type slotSet [MaxSlots / 64]uint64

func (s *slotSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }

// firstClearFrom returns the first slot at or after i whose bit is clear,
// or MaxSlots.
func (s *slotSet) firstClearFrom(i int) int {
	for ; i < MaxSlots; i = (i/64 + 1) * 64 {
		if free := ^s[i/64] >> (i % 64); free != 0 {
			return min(i+bits.TrailingZeros64(free), MaxSlots)
		}
	}
	return MaxSlots
}

// ownSlots maps a sidecar path to the slots this process's opens of it
// own; a path owning none has no entry.
var ownSlots struct {
	mu     sync.Mutex
	byPath map[string]*slotSet // +checklocks:mu
}

// ownedHere returns a copy of the slots this process owns in the sidecar
// at path.
func ownedHere(path string) slotSet {
	ownSlots.mu.Lock()
	defer ownSlots.mu.Unlock()
	if set := ownSlots.byPath[path]; set != nil {
		return *set
	}
	return slotSet{}
}

// setOwnedHere records that this process owns slot i of the sidecar at
// path, or no longer does.
func setOwnedHere(path string, i int, owned bool) {
	ownSlots.mu.Lock()
	defer ownSlots.mu.Unlock()
	set := ownSlots.byPath[path]
	switch {
	case owned && set == nil:
		if ownSlots.byPath == nil {
			ownSlots.byPath = map[string]*slotSet{}
		}
		set = &slotSet{}
		ownSlots.byPath[path] = set
	case set == nil:
		return
	}
	if owned {
		set[i/64] |= 1 << (i % 64)
		return
	}
	set[i/64] &^= 1 << (i % 64)
	if *set == (slotSet{}) {
		delete(ownSlots.byPath, path)
	}
}

// trySlot takes slot i's byte exclusively; a variable so that tests can
// count the probes.
var trySlot = func(s *Sidecar, i int) error { return s.tryLock(SlotByte(i), true) }
