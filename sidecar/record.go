package sidecar

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/walguard/walguard/policy"
)

// RecordVersion is the newest record format this package writes and reads.
// Version 2 adds a switch intent (flags bit 0 and bytes 248-249) and the
// reasons "operator" and "interrupted switch recovered". EncodeRecord writes
// the lowest version that holds the record, so a record without either is
// still version 1 and older walguard keeps reading it; a version 2 record
// makes older walguard refuse (ErrVersion: upgrade) instead of rebuilding
// what it cannot read.
const RecordVersion = 2

// recordMagic opens every record.
const recordMagic = "WALGUARD"

// The record, byte by byte. Integers are big-endian. Text is UTF-8,
// NUL-padded, and always ends in at least one NUL, so a field of n bytes
// keeps at most n-1 bytes of text; longer text is cut at a rune boundary
// on encode.
//
//	offset  size  field
//	0       8     magic "WALGUARD"
//	8       2     version (RecordVersion)
//	10      2     record length (RecordSize)
//	12      2     slot count (MaxSlots)
//	14      2     flags: bit 0 a switch intent is pending (version 2); other bits zero
//	16      8     generation, bumped on every change
//	24      1     journal family (policy.Family)
//	25      1     journal mode (policy.JournalMode)
//	26      1     locking protocol (policy.Protocol)
//	27      1     reason (policy.Reason)
//	28      4     setter pid
//	32      8     set at, int64 Unix nanoseconds; 0 is the zero time
//	40      48    host identity (at most 47 bytes)
//	88      48    setter program (at most 47 bytes)
//	136     112   detail text (at most 111 bytes)
//	248     1     switch intent: the family before the switch (version 2; zero without intent)
//	249     1     switch intent: the switcher's participant slot (version 2; zero without intent)
//	250     2     reserved, zero
//	252     4     CRC-32C (Castagnoli) of bytes 0..251
const (
	recMagic      = 0
	recVersion    = 8
	recLength     = 10
	recSlots      = 12
	recFlags      = 14
	recGeneration = 16
	recFamily     = 24
	recMode       = 25
	recProtocol   = 26
	recReason     = 27
	recPID        = 28
	recSetAt      = 32
	recHost       = 40
	recProgram    = 88
	recDetail     = 136
	recSwitchFrom = 248
	recSwitchSlot = 249
	recReserved   = 250
	recChecksum   = 252

	hostFieldSize    = 48
	programFieldSize = 48
	detailFieldSize  = 112

	recFlagSwitch = 1 << 0
)

// Errors of a record or slot entry, matchable with errors.Is. DecodeRecord
// and DecodeSlot wrap them with what was found.
var (
	// ErrNoRecord: nothing written yet (the bytes are empty or all zero).
	// A fresh sidecar, not corruption.
	ErrNoRecord = errors.New("nothing written yet")
	// ErrTruncated: fewer bytes than the entry's size, not all zero.
	ErrTruncated = errors.New("truncated")
	// ErrNotSidecar: the magic is wrong; the bytes were not written by walguard.
	ErrNotSidecar = errors.New("bad magic, not a walguard sidecar")
	// ErrVersion: written by a newer walguard (or with a version or size this
	// one does not know). Refuse it rather than overwrite it.
	ErrVersion = errors.New("unsupported format version")
	// ErrChecksum: the CRC-32C does not match; a torn or garbage write.
	ErrChecksum = errors.New("checksum mismatch, torn or garbage data")
	// ErrInvalid: the checksum matches but a field holds a value this
	// version does not define (an unknown enum, non-zero reserved bytes,
	// malformed text).
	ErrInvalid = errors.New("invalid field value")
)

// castagnoli is the CRC-32C table; read-only after package initialisation.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// A Record is the agreement stored at the start of the sidecar: the journal
// family, mode and locking protocol every walguard connection to the
// database must use, and who recorded them, when and why.
type Record struct {
	Version    uint16 // set by DecodeRecord; EncodeRecord writes the lowest version that holds the record, or this one if higher
	Generation uint64 // bumped on every change
	Family     policy.Family
	Mode       policy.JournalMode
	Protocol   policy.Protocol
	Reason     policy.Reason
	SetterPID  uint32
	SetAt      time.Time // kept to the nanosecond as Unix time; read back in UTC
	Host       string    // host identity, at most 47 bytes kept
	Program    string    // setter program, at most 47 bytes kept
	Detail     string    // free text, at most 111 bytes kept
	Switch     SwitchIntent
}

// A SwitchIntent says that a connection is changing the database header's
// journal family: the record's Family is the family it is switching to,
// and SetterPID, Program, Host and SetAt name the switcher. The switcher
// clears it when its transaction ends; when the switcher dies first, the
// next connection finds it pending with the switcher's slot free, and
// knows the header may show either family until SQLite has completed the
// switch or rolled its hot journal back.
type SwitchIntent struct {
	Pending bool
	From    policy.Family // the family before the switch
	Slot    int           // the switcher's participant slot, 0..MaxSlots-1
}

// minVersion is the lowest record version that can hold r.
func (r Record) minVersion() uint16 {
	if r.Switch.Pending || !v1Reason(r.Reason) {
		return 2
	}
	return 1
}

// v1Reason reports whether a record of version 1 may carry the reason:
// every reason but the two version 2 introduced.
func v1Reason(r policy.Reason) bool {
	return r != policy.ReasonOperator && r != policy.ReasonRecovered
}

// EncodeRecord returns the record's on-disk bytes, in the lowest version
// that holds it, or in r.Version when that is higher and known (so that a
// decoded record re-encodes to its bytes). It does not validate r (see
// Record.Validate). Text is cut at its first NUL, invalid UTF-8 is
// replaced with U+FFFD, and text longer than its field is cut at a rune
// boundary. SetAt is stored as Unix nanoseconds, clamped to the int64
// range; the zero time is stored as 0, so the instant 1970-01-01T00:00:00Z
// reads back as the zero time.
func EncodeRecord(r Record) [RecordSize]byte {
	var b [RecordSize]byte
	copy(b[recMagic:], recordMagic)
	version := r.minVersion()
	if r.Version > version && r.Version <= RecordVersion {
		version = r.Version
	}
	binary.BigEndian.PutUint16(b[recVersion:], version)
	binary.BigEndian.PutUint16(b[recLength:], RecordSize)
	binary.BigEndian.PutUint16(b[recSlots:], MaxSlots)
	if r.Switch.Pending {
		binary.BigEndian.PutUint16(b[recFlags:], recFlagSwitch)
		b[recSwitchFrom] = byte(r.Switch.From)
		b[recSwitchSlot] = byte(r.Switch.Slot)
	}
	binary.BigEndian.PutUint64(b[recGeneration:], r.Generation)
	b[recFamily] = byte(r.Family)
	b[recMode] = byte(r.Mode)
	b[recProtocol] = byte(r.Protocol)
	b[recReason] = byte(r.Reason)
	binary.BigEndian.PutUint32(b[recPID:], r.SetterPID)
	binary.BigEndian.PutUint64(b[recSetAt:], uint64(encodeTime(r.SetAt)))
	putText(b[recHost:recHost+hostFieldSize], r.Host)
	putText(b[recProgram:recProgram+programFieldSize], r.Program)
	putText(b[recDetail:recDetail+detailFieldSize], r.Detail)
	binary.BigEndian.PutUint32(b[recChecksum:], crc32.Checksum(b[:recChecksum], castagnoli))
	return b
}

// DecodeRecord verifies and decodes a record. Only the first RecordSize
// bytes of b are read. In order, it reports ErrNoRecord for empty or
// all-zero bytes, ErrTruncated for fewer than RecordSize bytes,
// ErrNotSidecar for a bad magic, ErrChecksum for a CRC mismatch, ErrVersion
// for a version other than 1..RecordVersion or a length or slot count this
// version does not use, and ErrInvalid for a value out of range.
//
// The checksum is verified before the version: a torn write can tear the
// version bytes too, and must read as torn (rebuilt), never as "written by
// a newer walguard" (refused for good). This is the frame every version
// keeps: a newer format may add fields, but bytes 0..251 of its first 256
// stay covered by the CRC-32C at 252, so a newer record still checksums
// here and only then reads as ErrVersion.
func DecodeRecord(b []byte) (Record, error) {
	if len(b) > RecordSize {
		b = b[:RecordSize]
	}
	if err := verifyFrame(b, RecordSize, recordMagic, RecordVersion, "record"); err != nil {
		return Record{}, err
	}
	r := Record{Version: binary.BigEndian.Uint16(b[recVersion:])}
	if n := binary.BigEndian.Uint16(b[recLength:]); n != RecordSize {
		return Record{}, fmt.Errorf("record: %w: length field %d, version %d uses %d", ErrVersion, n, r.Version, RecordSize)
	}
	if n := binary.BigEndian.Uint16(b[recSlots:]); n != MaxSlots {
		return Record{}, fmt.Errorf("record: %w: slot count %d, version %d uses %d", ErrVersion, n, r.Version, MaxSlots)
	}
	flags := binary.BigEndian.Uint16(b[recFlags:])
	known := uint16(0)
	if r.Version >= 2 {
		known = recFlagSwitch
	}
	if flags&^known != 0 {
		return Record{}, fmt.Errorf("record: %w: reserved flags 0x%04x", ErrInvalid, flags)
	}
	if !allZero(b[recReserved:recChecksum]) {
		return Record{}, fmt.Errorf("record: %w: reserved bytes %x", ErrInvalid, b[recReserved:recChecksum])
	}
	if flags&recFlagSwitch != 0 {
		r.Switch = SwitchIntent{Pending: true, From: policy.Family(b[recSwitchFrom]), Slot: int(b[recSwitchSlot])}
	} else if !allZero(b[recSwitchFrom:recReserved]) {
		return Record{}, fmt.Errorf("record: %w: switch intent bytes %x without the flag", ErrInvalid, b[recSwitchFrom:recReserved])
	}
	r.Generation = binary.BigEndian.Uint64(b[recGeneration:])
	r.Family = policy.Family(b[recFamily])
	r.Mode = policy.JournalMode(b[recMode])
	r.Protocol = policy.Protocol(b[recProtocol])
	r.Reason = policy.Reason(b[recReason])
	r.SetterPID = binary.BigEndian.Uint32(b[recPID:])
	r.SetAt = decodeTime(int64(binary.BigEndian.Uint64(b[recSetAt:])))
	var err error
	if r.Host, err = getText(b[recHost:recHost+hostFieldSize], "record host"); err != nil {
		return Record{}, err
	}
	if r.Program, err = getText(b[recProgram:recProgram+programFieldSize], "record program"); err != nil {
		return Record{}, err
	}
	if r.Detail, err = getText(b[recDetail:recDetail+detailFieldSize], "record detail"); err != nil {
		return Record{}, err
	}
	if err := r.Validate(); err != nil {
		return Record{}, err
	}
	if r.Version < r.minVersion() {
		return Record{}, fmt.Errorf("record: %w: reason %d is not defined in version %d", ErrInvalid, uint8(r.Reason), r.Version)
	}
	return r, nil
}

// Validate reports, as ErrInvalid, a family, mode, protocol or reason this
// version does not define, or a mode whose family is not the record's.
// DecodeRecord calls it; EncodeRecord does not, so a writer can check a
// record before it stores something no reader will accept.
func (r Record) Validate() error {
	if err := validateEnums("record", r.Family, r.Mode, r.Protocol); err != nil {
		return err
	}
	if !knownReason(r.Reason) {
		return fmt.Errorf("record: %w: reason %d", ErrInvalid, uint8(r.Reason))
	}
	if r.Mode != policy.ModeUnknown && r.Mode.Family() != r.Family {
		return fmt.Errorf("record: %w: mode %s belongs to family %s, record says %s",
			ErrInvalid, r.Mode, r.Mode.Family(), r.Family)
	}
	if s := r.Switch; s.Pending {
		if s.From == policy.FamilyUnknown || !knownFamily(s.From) || s.From == r.Family || r.Family == policy.FamilyUnknown {
			return fmt.Errorf("record: %w: switch intent from %d to %s", ErrInvalid, uint8(s.From), r.Family)
		}
		if s.Slot < 0 || s.Slot >= MaxSlots {
			return fmt.Errorf("record: %w: switch intent slot %d", ErrInvalid, s.Slot)
		}
	} else if s != (SwitchIntent{}) {
		return fmt.Errorf("record: %w: switch intent fields set without the intent", ErrInvalid)
	}
	return nil
}

// String describes the record on one line, for example
//
//	wal (mode wal, protocol ofd) gen 3, set by walguard-test pid 4242 on host-a at 2026-11-28T10:00:00Z: journal_mode pragma
//
// followed by the detail text in parentheses when there is one.
func (r Record) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s (mode %s, protocol %s) gen %d, set by %s pid %d on %s at %s: %s",
		r.Family, r.Mode, r.Protocol, r.Generation,
		Printable(r.Program, "unknown program"), r.SetterPID, Printable(r.Host, "unknown host"),
		FormatTime(r.SetAt), r.Reason)
	if r.Detail != "" {
		fmt.Fprintf(&sb, " (%s)", Printable(r.Detail, ""))
	}
	if r.Switch.Pending {
		fmt.Fprintf(&sb, "; switch from %s to %s pending (slot %d)", r.Switch.From, r.Family, r.Switch.Slot)
	}
	return sb.String()
}

// recordJSON is the JSON form of a Record.
type recordJSON struct {
	Version    uint16 `json:"version"`
	Generation uint64 `json:"generation"`
	Family     string `json:"family"`
	Mode       string `json:"mode"`
	Protocol   string `json:"protocol"`
	Reason     string `json:"reason"`
	SetterPID  uint32 `json:"setter_pid"`
	SetAt      string `json:"set_at,omitempty"`
	Host       string `json:"host"`
	Program    string `json:"program"`
	Detail     string `json:"detail"`
	Switch     *struct {
		From string `json:"from"`
		To   string `json:"to"`
		Slot int    `json:"slot"`
	} `json:"switch,omitempty"`
}

// MarshalJSON encodes the record with lower-case keys, enums by name and
// set_at in RFC 3339 with nanoseconds (absent for the zero time).
func (r Record) MarshalJSON() ([]byte, error) {
	j := recordJSON{
		Version:    r.Version,
		Generation: r.Generation,
		Family:     r.Family.String(),
		Mode:       r.Mode.String(),
		Protocol:   r.Protocol.String(),
		Reason:     r.Reason.String(),
		SetterPID:  r.SetterPID,
		SetAt:      jsonTime(r.SetAt),
		Host:       r.Host,
		Program:    r.Program,
		Detail:     r.Detail,
	}
	if r.Switch.Pending {
		j.Switch = &struct {
			From string `json:"from"`
			To   string `json:"to"`
			Slot int    `json:"slot"`
		}{r.Switch.From.String(), r.Family.String(), r.Switch.Slot}
	}
	return json.Marshal(j)
}

// verifyFrame checks what every entry has: zero bytes, size, magic at 0,
// a CRC-32C of all but the last four bytes in the last four, and a
// big-endian uint16 version right after the magic, in that order. b is at most size bytes long.
func verifyFrame(b []byte, size int, magic string, version uint16, what string) error {
	if allZero(b) {
		return noRecordError(what)
	}
	if len(b) < size {
		return fmt.Errorf("%s: %w: %d bytes, want %d", what, ErrTruncated, len(b), size)
	}
	if got := b[:len(magic)]; string(got) != magic {
		return fmt.Errorf("%s: %w: magic %q, want %q", what, ErrNotSidecar, got, magic)
	}
	// Checksum first: a torn version must not read as a newer format.
	stored := binary.BigEndian.Uint32(b[size-4:])
	if sum := crc32.Checksum(b[:size-4], castagnoli); sum != stored {
		return fmt.Errorf("%s: %w: stored crc32c 0x%08x, computed 0x%08x", what, ErrChecksum, stored, sum)
	}
	if v := binary.BigEndian.Uint16(b[len(magic):]); v == 0 || v > version {
		return fmt.Errorf("%s: %w: version %d, this walguard reads 1 to %d", what, ErrVersion, v, version)
	}
	return nil
}

// validateEnums reports, as ErrInvalid, a family, mode or protocol that
// policy does not define.
func validateEnums(what string, f policy.Family, m policy.JournalMode, p policy.Protocol) error {
	switch {
	case !knownFamily(f):
		return fmt.Errorf("%s: %w: family %d", what, ErrInvalid, uint8(f))
	case !knownMode(m):
		return fmt.Errorf("%s: %w: journal mode %d", what, ErrInvalid, uint8(m))
	case !knownProtocol(p):
		return fmt.Errorf("%s: %w: protocol %d", what, ErrInvalid, uint8(p))
	}
	return nil
}

// The policy enums name every value they define and call the rest
// "unknown", so asking String keeps these checks in step with policy.

func knownFamily(f policy.Family) bool {
	return f == policy.FamilyUnknown || f.String() != policy.FamilyUnknown.String()
}

func knownMode(m policy.JournalMode) bool {
	return m == policy.ModeUnknown || m.String() != policy.ModeUnknown.String()
}

func knownProtocol(p policy.Protocol) bool { return p < policy.NumProtocols }

// unknownReason is what Reason.String says for a value it does not define.
var unknownReason = policy.Reason(math.MaxUint8).String()

func knownReason(r policy.Reason) bool { return r.String() != unknownReason }

// putText stores s in a NUL-padded field, keeping at most len(field)-1
// bytes so that the field always ends in NUL.
func putText(field []byte, s string) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	s = strings.ToValidUTF8(s, string(utf8.RuneError))
	copy(field, truncateText(s, len(field)-1))
}

// truncateText cuts valid UTF-8 s to at most max bytes at a rune boundary.
func truncateText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// getText reads a field written by putText, refusing anything putText
// would not write (no terminating NUL, bytes after the padding, invalid
// UTF-8), so that a decoded entry re-encodes to the same bytes.
func getText(field []byte, what string) (string, error) {
	n := bytes.IndexByte(field, 0)
	if n < 0 {
		return "", fmt.Errorf("%s: %w: text fills its %d-byte field with no NUL", what, ErrInvalid, len(field))
	}
	if !allZero(field[n:]) {
		return "", fmt.Errorf("%s: %w: bytes after the NUL padding", what, ErrInvalid)
	}
	if !utf8.Valid(field[:n]) {
		return "", fmt.Errorf("%s: %w: text is not UTF-8", what, ErrInvalid)
	}
	return string(field[:n]), nil
}

// The instants int64 Unix nanoseconds can hold.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

func encodeTime(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func decodeTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// FormatTime formats t for people: RFC 3339 in UTC, or "unknown time".
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "unknown time"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func jsonTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Printable returns s as a person can read it on one line: dflt when s
// is empty, quoted when it holds characters that are not printable.
func Printable(s, dflt string) string {
	if s == "" {
		return dflt
	}
	if strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Never-written entries are the common case (every free slot of a
// preallocated table is one), so their error is made once, not per read.
var (
	errNoRecordRecord = fmt.Errorf("record: %w", ErrNoRecord)
	errNoRecordSlot   = fmt.Errorf("slot: %w", ErrNoRecord)
)

func noRecordError(what string) error {
	switch what {
	case "record":
		return errNoRecordRecord
	case "slot":
		return errNoRecordSlot
	}
	return fmt.Errorf("%s: %w", what, ErrNoRecord)
}
