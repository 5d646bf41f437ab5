package sidecar

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/walguard/walguard/internal/filelock"
	"github.com/walguard/walguard/policy"
)

// The sidecar's lock bytes are mirrored on the database file itself, so
// that participation survives the sidecar: a sidecar removed, replaced or
// renamed over while participants are live leaves their declarations on
// the database, which every newcomer tests too, whatever sidecar it
// finds. And since a hard link is the same file, every name of a
// database shows the same mirror.
//
// Every lock byte at LockBase+k on the sidecar has its mirror at
// MirrorBase+k on the database, taken with the same primitive (OFD locks,
// LockFileEx) on a file descriptor of walguard's own:
//
//	MirrorBase + 0            agreement
//	MirrorBase + 16 + p       protocol p
//	MirrorBase + 32 + f       family f
//	MirrorBase + 64 + i       slot i
//
// MirrorBase is 2^48: past the largest database SQLite can write
// (4294967294 pages of 65536 bytes, just under 2^48), so no read or write
// ever reaches a mirror byte (Windows locks are mandatory), and far from
// SQLite's own lock bytes at 0x40000000 (PENDING), 0x40000001 (RESERVED)
// and 0x40000002..0x400001FF (SHARED).
//
// A byte is taken on the sidecar first and on the mirror second, and
// released in the other order, so a mirror byte is never held without its
// sidecar byte by a participant that uses the sidecar in place: a mirror
// byte held with nothing in the sidecar means the sidecar was replaced
// while in use.
const MirrorBase = 1 << 48

// MirrorByte is the offset on the database of the mirror of the sidecar's
// lock byte at off.
func MirrorByte(off int64) int64 { return MirrorBase + off - LockBase }

// openMirror opens the database for mirroring. A database that does not
// exist has no mirror (the sidecar alone, as its own tests use it).
func (s *Sidecar) openMirror(dbPath string) error {
	f, err := os.OpenFile(dbPath, os.O_RDWR|oNonBlock, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s to mirror the sidecar's locks: %w", dbPath, err)
	}
	s.db = f
	return nil
}

func (s *Sidecar) closeMirror() error {
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// tryLock takes the byte at off on the sidecar, then its mirror; if the
// mirror is held (a participant of a replaced sidecar), the sidecar byte
// is given back and the answer is ErrHeld. No caller converts a byte it
// already holds, so giving it back never drops an older lock.
func (s *Sidecar) tryLock(off int64, exclusive bool) error {
	if err := filelock.TryLock(s.f, off, exclusive); err != nil {
		return err
	}
	if s.db == nil {
		return nil
	}
	if err := filelock.TryLock(s.db, MirrorByte(off), exclusive); err != nil {
		filelock.Unlock(s.f, off)
		return err
	}
	return nil
}

// unlock releases the mirror, then the sidecar byte.
func (s *Sidecar) unlock(off int64) error {
	var err error
	if s.db != nil {
		err = filelock.Unlock(s.db, MirrorByte(off))
	}
	return errors.Join(err, filelock.Unlock(s.f, off))
}

// test reports whether another open holds the byte at off on the sidecar
// or on the database's mirror.
func (s *Sidecar) test(off int64) (bool, error) {
	held, err := filelock.Test(s.f, off)
	if err != nil || held || s.db == nil {
		return held, err
	}
	return filelock.Test(s.db, MirrorByte(off))
}

// readMirror adds to a snapshot what the database's mirror bytes show and
// the sidecar does not. It only tests locks.
func (snap *Snapshot) readMirror(dbPath string) error {
	f, err := os.OpenFile(dbPath, os.O_RDONLY|oNonBlock, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return err // not a database: nothing mirrored
	}
	mirrored := func(off int64) (bool, error) { return filelock.Test(f, MirrorByte(off)) }
	held, err := mirrored(AgreementByte)
	if err != nil {
		return err
	}
	snap.MirrorRead = true
	snap.AgreementHeld = snap.AgreementHeld || held
	for p := range policy.Protocol(policy.NumProtocols) {
		if held, err := mirrored(ProtocolByte(p)); err != nil {
			return err
		} else if held && !slices.Contains(snap.Protocols, p) {
			snap.Protocols = append(snap.Protocols, p)
			snap.Replaced = true
		}
	}
	for _, fam := range []policy.Family{policy.FamilyRollback, policy.FamilyWAL} {
		if held, err := mirrored(FamilyByte(fam)); err != nil {
			return err
		} else if held && !slices.Contains(snap.Families, fam) {
			snap.Families = append(snap.Families, fam)
			snap.Replaced = true
		}
	}
	listed := map[int]bool{}
	for _, p := range snap.Participants {
		listed[p.Index] = true
	}
	for i := range MaxSlots {
		if held, err := mirrored(SlotByte(i)); err != nil {
			return err
		} else if held && !listed[i] {
			snap.Unlisted = append(snap.Unlisted, i)
			snap.Replaced = true
		}
	}
	return nil
}

// LiveElsewhere reports whether a participant holds a protocol byte on the
// database's mirror: someone is live, whatever this sidecar says. Called on
// a fresh sidecar (no record), it tells a first use from a sidecar that was
// removed or replaced while in use.
func (s *Sidecar) LiveElsewhere() (bool, error) {
	if s.db == nil {
		return false, nil
	}
	for p := range policy.Protocol(policy.NumProtocols) {
		if s.protocol == p {
			continue // our own shows on Windows, where testing takes the lock
		}
		if held, err := filelock.Test(s.db, MirrorByte(ProtocolByte(p))); err != nil || held {
			return held, err
		}
	}
	return false, nil
}
