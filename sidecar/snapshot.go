package sidecar

import "github.com/walguard/walguard/policy"

// A Participant is a live slot: its lock byte is held by some open file
// description, so its entry describes a connection that is open now.
type Participant struct {
	Index   int   // slot index
	Slot    Slot  // the decoded entry
	SlotErr error // non-nil when the entry is torn or not yet written
}

// A Snapshot is what the sidecar says, read without taking any lock:
// the record, and which lock bytes are held right now.
type Snapshot struct {
	Path          string // the sidecar's path
	Exists        bool
	Record        Record
	RecordErr     error // nil, or one of ErrNoRecord, ErrChecksum, ... from DecodeRecord
	Participants  []Participant
	Protocols     []policy.Protocol // protocol bytes held by someone
	Families      []policy.Family   // family bytes held by someone
	AgreementHeld bool              // someone is changing the record or joining right now

	// From the database's mirror bytes (mirror.go). Protocols and
	// Families above include what the mirror shows.
	MirrorRead bool  // the database's mirror bytes could be tested
	Unlisted   []int // slots held on the database's mirror but not in this sidecar
	// Replaced: live participants hold declarations on the database that
	// this sidecar does not show: it was removed, replaced or renamed over
	// while they use the database (they hold the file that was there).
	Replaced bool
}

// ReadSnapshot reads the sidecar of the database at dbPath. It only tests
// locks (F_OFD_GETLK), never takes them, and never writes.
// A missing sidecar is not an error: Exists is false.
func ReadSnapshot(dbPath string) (Snapshot, error) {
	snap, err := readSnapshot(SidecarPath(dbPath))
	if merr := snap.readMirror(dbPath); err == nil {
		err = merr
	}
	return snap, err
}
