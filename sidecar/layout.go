package sidecar

import "github.com/walguard/walguard/policy"

// SidecarSuffix is appended to the database path to name the sidecar:
// app.db has its record in app.db-walguard.
const SidecarSuffix = "-walguard"

// The sidecar file, byte by byte. Integers are big-endian, as in SQLite's
// own file formats.
//
//	offset  size   contents
//	0       256    the record (see Record)
//	256     256    unused, zero
//	512     128*N  participant slots, N = MaxSlots (see Slot)
//
// Locks live past the data, where no read or write ever goes (Windows locks
// are mandatory, so a locked byte could not be read):
//
//	LockBase + 0            agreement byte: exclusive while the record changes or a participant joins
//	LockBase + 16 + p       protocol byte for policy.Protocol p: shared by every participant using p
//	LockBase + 32 + f       family byte for policy.Family f: shared by every participant writing with f
//	LockBase + 64 + i       slot byte i: exclusive while slot i is owned
//
// Every one of them is mirrored on the database file at MirrorBase (2^48)
// + (offset - LockBase), and taken and tested there too: see mirror.go.
const (
	RecordSize      = 256
	SlotTableOffset = 512
	SlotSize        = 128
	MaxSlots        = 128
	DataSize        = SlotTableOffset + SlotSize*MaxSlots

	LockBase      = 1 << 16
	AgreementByte = LockBase
)

// ProtocolByte is the offset of the lock byte that participants using p share.
func ProtocolByte(p policy.Protocol) int64 { return LockBase + 16 + int64(p) }

// FamilyByte is the offset of the lock byte that participants writing with f share.
func FamilyByte(f policy.Family) int64 { return LockBase + 32 + int64(f) }

// SlotByte is the offset of the lock byte that the owner of slot i holds.
func SlotByte(i int) int64 { return LockBase + 64 + int64(i) }

// SlotOffset is the offset of slot i's entry.
func SlotOffset(i int) int64 { return SlotTableOffset + int64(i)*SlotSize }
