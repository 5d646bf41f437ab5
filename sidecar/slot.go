package sidecar

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/walguard/walguard/policy"
)

// SlotVersion is the slot entry format this package writes, and the newest
// it reads.
const SlotVersion = 1

// slotMagic opens every slot entry.
const slotMagic = "WGSL"

// A slot entry, byte by byte. Integers are big-endian; text follows the
// record's rules (UTF-8, NUL-padded, at most 47 bytes kept).
//
//	offset  size  field
//	0       4     magic "WGSL"
//	4       2     slot version (SlotVersion)
//	6       1     locking protocol (policy.Protocol)
//	7       1     journal family (policy.Family; 0 = not decided yet)
//	8       1     journal mode (policy.JournalMode)
//	9       1     flags: bit 0 read-only connection; other bits zero
//	10      2     reserved, zero
//	12      4     pid
//	16      8     since, int64 Unix nanoseconds; 0 is the zero time
//	24      48    host identity
//	72      48    program
//	120     4     reserved, zero
//	124     4     CRC-32C (Castagnoli) of bytes 0..123
const (
	slotOffMagic    = 0
	slotOffVersion  = 4
	slotOffProtocol = 6
	slotOffFamily   = 7
	slotOffMode     = 8
	slotOffFlags    = 9
	slotOffReserved = 10
	slotOffPID      = 12
	slotOffSince    = 16
	slotOffHost     = 24
	slotOffProgram  = 72
	slotOffPadding  = 120
	slotOffChecksum = 124

	slotFlagReadOnly = 1 << 0
)

// A Slot is a participant's description of itself, stored in the slot
// entry whose lock byte it holds. The entry describes a live connection
// only while that lock is held.
type Slot struct {
	PID      uint32
	Protocol policy.Protocol    // the locking protocol it uses on the database
	Family   policy.Family      // the family it writes with; FamilyUnknown until decided
	Mode     policy.JournalMode // the journal mode it asked for or uses
	ReadOnly bool               // a read-only connection
	Since    time.Time          // when it joined; stored as Unix nanoseconds, read back in UTC
	Host     string             // host identity, at most 47 bytes kept
	Program  string             // program, at most 47 bytes kept
}

// EncodeSlot returns the slot entry's on-disk bytes. It does not validate
// s (see Slot.Validate); text and time follow EncodeRecord's rules.
func EncodeSlot(s Slot) [SlotSize]byte {
	var b [SlotSize]byte
	copy(b[slotOffMagic:], slotMagic)
	binary.BigEndian.PutUint16(b[slotOffVersion:], SlotVersion)
	b[slotOffProtocol] = byte(s.Protocol)
	b[slotOffFamily] = byte(s.Family)
	b[slotOffMode] = byte(s.Mode)
	if s.ReadOnly {
		b[slotOffFlags] |= slotFlagReadOnly
	}
	binary.BigEndian.PutUint32(b[slotOffPID:], s.PID)
	binary.BigEndian.PutUint64(b[slotOffSince:], uint64(encodeTime(s.Since)))
	putText(b[slotOffHost:slotOffProgram], s.Host)
	putText(b[slotOffProgram:slotOffPadding], s.Program)
	binary.BigEndian.PutUint32(b[slotOffChecksum:], crc32.Checksum(b[:slotOffChecksum], castagnoli))
	return b
}

// DecodeSlot verifies and decodes a slot entry. Only the first SlotSize
// bytes of b are read. Its errors are DecodeRecord's: ErrNoRecord for
// empty or all-zero bytes (a slot never written), ErrTruncated,
// ErrNotSidecar, ErrVersion, ErrChecksum, and ErrInvalid for a value out of
// range or non-zero reserved bits.
func DecodeSlot(b []byte) (Slot, error) {
	if len(b) > SlotSize {
		b = b[:SlotSize]
	}
	if err := verifyFrame(b, SlotSize, slotMagic, SlotVersion, "slot"); err != nil {
		return Slot{}, err
	}
	flags := b[slotOffFlags]
	if flags&^slotFlagReadOnly != 0 {
		return Slot{}, fmt.Errorf("slot: %w: reserved flags 0x%02x", ErrInvalid, flags)
	}
	if !allZero(b[slotOffReserved:slotOffPID]) || !allZero(b[slotOffPadding:slotOffChecksum]) {
		return Slot{}, fmt.Errorf("slot: %w: reserved bytes not zero", ErrInvalid)
	}
	s := Slot{
		PID:      binary.BigEndian.Uint32(b[slotOffPID:]),
		Protocol: policy.Protocol(b[slotOffProtocol]),
		Family:   policy.Family(b[slotOffFamily]),
		Mode:     policy.JournalMode(b[slotOffMode]),
		ReadOnly: flags&slotFlagReadOnly != 0,
		Since:    decodeTime(int64(binary.BigEndian.Uint64(b[slotOffSince:]))),
	}
	var err error
	if s.Host, err = getText(b[slotOffHost:slotOffProgram], "slot host"); err != nil {
		return Slot{}, err
	}
	if s.Program, err = getText(b[slotOffProgram:slotOffPadding], "slot program"); err != nil {
		return Slot{}, err
	}
	if err := s.Validate(); err != nil {
		return Slot{}, err
	}
	return s, nil
}

// Validate reports, as ErrInvalid, a protocol, family or mode this version
// does not define. Unlike a record's, a slot's mode need not belong to its
// family: a connection may ask for a mode before it writes with it.
func (s Slot) Validate() error {
	return validateEnums("slot", s.Family, s.Mode, s.Protocol)
}

// String describes the participant on one line, for example
//
//	walguard-test pid 4242 on host-a: protocol ofd, family wal, mode wal, read-write, since 2026-11-28T10:00:00Z
func (s Slot) String() string {
	access := "read-write"
	if s.ReadOnly {
		access = "read-only"
	}
	return fmt.Sprintf("%s pid %d on %s: protocol %s, family %s, mode %s, %s, since %s",
		Printable(s.Program, "unknown program"), s.PID, Printable(s.Host, "unknown host"),
		s.Protocol, s.Family, s.Mode, access, FormatTime(s.Since))
}

// slotJSON is the JSON form of a Slot.
type slotJSON struct {
	PID      uint32 `json:"pid"`
	Protocol string `json:"protocol"`
	Family   string `json:"family"`
	Mode     string `json:"mode"`
	ReadOnly bool   `json:"read_only"`
	Since    string `json:"since,omitempty"`
	Host     string `json:"host"`
	Program  string `json:"program"`
}

// MarshalJSON encodes the slot with lower-case keys, enums by name and
// since in RFC 3339 with nanoseconds (absent for the zero time).
func (s Slot) MarshalJSON() ([]byte, error) {
	return json.Marshal(slotJSON{
		PID:      s.PID,
		Protocol: s.Protocol.String(),
		Family:   s.Family.String(),
		Mode:     s.Mode.String(),
		ReadOnly: s.ReadOnly,
		Since:    jsonTime(s.Since),
		Host:     s.Host,
		Program:  s.Program,
	})
}
