package sidecar

import (
	"os"
	"slices"

	"github.com/walguard/walguard/internal/filelock"
	"github.com/walguard/walguard/policy"
)

// OthersUseProtocols returns, in order, the protocols other than mine
// whose bytes another open holds, on the sidecar or on the database's
// mirror. Every protocol byte is tested at once: one F_OFD_GETLK over the
// bytes below mine and one over those above, on each file, plus two more
// for each protocol found held. It replaces a test per protocol and file.
func (s *Sidecar) OthersUseProtocols(mine policy.Protocol) ([]policy.Protocol, error) {
	var held []policy.Protocol
	files := [2]struct {
		f    *os.File
		base int64
	}{{s.f, ProtocolByte(0)}, {s.db, MirrorByte(ProtocolByte(0))}}
	for _, file := range files {
		if file.f == nil {
			continue
		}
		for _, r := range [2][2]policy.Protocol{{1, mine}, {mine + 1, policy.NumProtocols}} {
			var err error
			if held, err = heldProtocols(file.f, file.base, r[0], r[1], held); err != nil {
				return nil, err
			}
		}
	}
	slices.Sort(held)
	return held, nil
}

// heldProtocols adds to held the protocols in [lo, hi) whose byte another
// open holds on f, where protocol p's byte is at base+p. F_OFD_GETLK
// answers with one conflicting lock, not necessarily the lowest, so the
// bytes on both sides of it are tested again.
func heldProtocols(f *os.File, base int64, lo, hi policy.Protocol, held []policy.Protocol) ([]policy.Protocol, error) {
	if lo >= hi {
		return held, nil
	}
	found, start, n, err := filelock.TestRange(f, base+int64(lo), int64(hi-lo))
	if err != nil || !found {
		return held, err
	}
	first, end := policy.Protocol(start-base), policy.Protocol(start-base+n)
	for p := first; p < end; p++ {
		if !slices.Contains(held, p) {
			held = append(held, p)
		}
	}
	if held, err = heldProtocols(f, base, lo, first, held); err != nil {
		return held, err
	}
	return heldProtocols(f, base, end, hi, held)
}
