package sidecar

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/walguard/walguard/policy"
)

// updateGolden rewrites the fixtures in testdata: go test ./sidecar -run Golden -update
var updateGolden = flag.Bool("update", false, "rewrite the golden fixtures in testdata")

// sentinels are every error DecodeRecord and DecodeSlot may wrap.
var sentinels = []error{ErrNoRecord, ErrTruncated, ErrNotSidecar, ErrVersion, ErrChecksum, ErrInvalid}

// checkSentinel fails unless err matches want and no other sentinel.
func checkSentinel(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	for _, other := range sentinels {
		if other != want && errors.Is(err, other) {
			t.Fatalf("error %v also matches %v", err, other)
		}
	}
}

// withCRC stores the CRC-32C of all but the last four bytes in the last
// four, as a writer of a crafted but well-formed entry would.
func withCRC(b []byte) []byte {
	n := len(b) - 4
	binary.BigEndian.PutUint32(b[n:], crc32.Checksum(b[:n], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// sameTime compares instants and requires decoded times to be in UTC.
func sameTime(got, want time.Time) bool {
	if want.IsZero() {
		return got.IsZero()
	}
	return got.Equal(want) && got.Location() == time.UTC
}

func sameRecord(got, want Record) bool {
	g, w := got, want
	g.SetAt, w.SetAt = time.Time{}, time.Time{}
	return g == w && sameTime(got.SetAt, want.SetAt)
}

func fullRecord() Record {
	return Record{
		Generation: 3,
		Family:     policy.FamilyWAL,
		Mode:       policy.ModeWAL,
		Protocol:   policy.ProtocolOFD,
		Reason:     policy.ReasonPragma,
		SetterPID:  4242,
		SetAt:      time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
		Host:       "host-a",
		Program:    "walguard-test",
		Detail:     "journal_mode=WAL by the test",
	}
}

func TestRecordRoundTrip(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		rec  Record
		want Record // zero: rec itself
	}{
		{name: "zero", rec: Record{}},
		{name: "full", rec: fullRecord()},
		{name: "rollback truncate flock", rec: Record{Family: policy.FamilyRollback, Mode: policy.ModeTruncate, Protocol: policy.ProtocolFlock, Reason: policy.ReasonNetworkFS}},
		{name: "rollback off nolock", rec: Record{Family: policy.FamilyRollback, Mode: policy.ModeOff, Protocol: policy.ProtocolNoLock, Reason: policy.ReasonIncompatible}},
		{name: "family without mode", rec: Record{Family: policy.FamilyWAL, Protocol: policy.ProtocolWindows, Reason: policy.ReasonFirstUse}},
		{name: "refusal reason", rec: Record{Family: policy.FamilyRollback, Mode: policy.ModeMemory, Reason: policy.ReasonForeignFlipRefused}},
		{name: "extremes", rec: Record{Generation: math.MaxUint64, SetterPID: math.MaxUint32, Reason: policy.ReasonRebuilt,
			SetAt: time.Unix(0, math.MaxInt64).UTC()}},
		{name: "before 1970", rec: Record{SetAt: time.Date(1969, 7, 20, 20, 17, 40, 1, time.UTC)}},
		{name: "nanoseconds in another zone", rec: Record{SetAt: time.Date(2026, 1, 2, 3, 4, 5, 987654321, paris)}},
		{name: "monotonic clock reading dropped", rec: Record{SetAt: time.Now()}},
		{name: "text at the limits", rec: Record{Host: strings.Repeat("h", 47), Program: strings.Repeat("p", 47), Detail: strings.Repeat("d", 111)}},
		{name: "unicode text", rec: Record{Host: "hôte-ß", Program: "程序", Detail: "détail ✓ 😀"}},
		{name: "time before int64 nanoseconds clamped", rec: Record{SetAt: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)},
			want: Record{SetAt: time.Unix(0, math.MinInt64)}},
		{name: "time after int64 nanoseconds clamped", rec: Record{SetAt: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)},
			want: Record{SetAt: time.Unix(0, math.MaxInt64)}},
		{name: "version field ignored on encode", rec: Record{Version: 9, Generation: 1}, want: Record{Generation: 1}},
		{name: "version 2 kept on encode", rec: Record{Version: 2, Generation: 1}},
		{name: "switch intent", rec: Record{Family: policy.FamilyWAL, Mode: policy.ModeWAL, Reason: policy.ReasonPragma,
			Switch: SwitchIntent{Pending: true, From: policy.FamilyRollback, Slot: MaxSlots - 1}}},
		{name: "operator reason", rec: Record{Family: policy.FamilyRollback, Mode: policy.ModeDelete, Reason: policy.ReasonOperator}},
		{name: "recovered reason", rec: Record{Family: policy.FamilyWAL, Mode: policy.ModeWAL, Reason: policy.ReasonRecovered}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == (Record{}) {
				want = tt.rec
			}
			want.Version = want.minVersion()
			if tt.rec.Version == 2 {
				want.Version = 2
			}
			b := EncodeRecord(tt.rec)
			got, err := DecodeRecord(b[:])
			if err != nil {
				t.Fatalf("DecodeRecord: %v", err)
			}
			if !sameRecord(got, want) {
				t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
			}
			if again := EncodeRecord(got); again != b {
				t.Fatalf("re-encoding the decoded record changed its bytes")
			}
		})
	}
}

// record returns a valid encoded record after edit changes it; fix
// recomputes the checksum so that only the edit is wrong.
func record(edit func(b []byte), fix bool) []byte {
	a := EncodeRecord(fullRecord())
	b := a[:]
	edit(b)
	if fix {
		withCRC(b)
	}
	return b
}

func TestDecodeRecordErrors(t *testing.T) {
	valid := EncodeRecord(fullRecord())
	garbage := make([]byte, RecordSize)
	copy(garbage, "garbage, not a record at all")
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"nil", nil, ErrNoRecord},
		{"empty", []byte{}, ErrNoRecord},
		{"all zero", make([]byte, RecordSize), ErrNoRecord},
		{"short and all zero", make([]byte, 100), ErrNoRecord},
		{"long and all zero", make([]byte, 4*RecordSize), ErrNoRecord},
		{"one byte", valid[:1], ErrTruncated},
		{"magic only", valid[:8], ErrTruncated},
		{"half", valid[:RecordSize/2], ErrTruncated},
		{"no checksum", valid[:252], ErrTruncated},
		{"one byte short", valid[:RecordSize-1], ErrTruncated},
		{"garbage", garbage, ErrNotSidecar},
		{"slot where the record should be", func() []byte { s := EncodeSlot(fullSlot()); return append(s[:], make([]byte, RecordSize-SlotSize)...) }(), ErrNotSidecar},
		{"lower-case magic", record(func(b []byte) { copy(b, "walguard") }, true), ErrNotSidecar},
		{"version 0", record(func(b []byte) { b[9] = 0 }, true), ErrVersion},
		{"version 3", record(func(b []byte) { b[9] = 3 }, true), ErrVersion},
		{"version 3 with a stale checksum: torn, not newer", record(func(b []byte) { b[9] = 3 }, false), ErrChecksum},
		{"version 0xff01 with a stale checksum: torn, not newer", record(func(b []byte) { b[8] = 0xff }, false), ErrChecksum},
		{"switch flag in version 1", record(func(b []byte) { b[15], b[248] = 1, 1 }, true), ErrInvalid},
		{"unknown flag in version 2", record(func(b []byte) { b[9], b[15] = 2, 2 }, true), ErrInvalid},
		{"switch bytes without the flag", record(func(b []byte) { b[9], b[248] = 2, 1 }, true), ErrInvalid},
		{"switch from the same family", record(func(b []byte) { b[9], b[15], b[248] = 2, 1, 2 }, true), ErrInvalid},
		{"switch from an unknown family", record(func(b []byte) { b[9], b[15], b[248] = 2, 1, 0 }, true), ErrInvalid},
		{"switch from family 3", record(func(b []byte) { b[9], b[15], b[248] = 2, 1, 3 }, true), ErrInvalid},
		{"switch slot 128", record(func(b []byte) { b[9], b[15], b[248], b[249] = 2, 1, 1, 128 }, true), ErrInvalid},
		{"reason 31 in version 2", record(func(b []byte) { b[9], b[27] = 2, 31 }, true), ErrInvalid},
		{"version 0xffff", record(func(b []byte) { b[8], b[9] = 0xff, 0xff }, true), ErrVersion},
		{"length 512", record(func(b []byte) { b[10], b[11] = 2, 0 }, true), ErrVersion},
		{"slot count 64", record(func(b []byte) { b[13] = 64 }, true), ErrVersion},
		{"checksum flipped", record(func(b []byte) { b[255] ^= 1 }, false), ErrChecksum},
		{"generation changed, stale checksum", record(func(b []byte) { b[23]++ }, false), ErrChecksum},
		{"flags set", record(func(b []byte) { b[15] = 1 }, true), ErrInvalid},
		{"reserved set", record(func(b []byte) { b[250] = 7 }, true), ErrInvalid},
		{"family 9", record(func(b []byte) { b[24] = 9 }, true), ErrInvalid},
		{"family 3", record(func(b []byte) { b[24] = 3 }, true), ErrInvalid},
		{"mode 7", record(func(b []byte) { b[25] = 7 }, true), ErrInvalid},
		{"protocol 7", record(func(b []byte) { b[26] = 7 }, true), ErrInvalid},
		{"reason 7 in version 1", record(func(b []byte) { b[27] = 7 }, true), ErrInvalid},
		{"reason 41", record(func(b []byte) { b[27] = 41 }, true), ErrInvalid},
		{"reason 255", record(func(b []byte) { b[27] = 255 }, true), ErrInvalid},
		{"mode of the other family", record(func(b []byte) { b[25] = byte(policy.ModeDelete) }, true), ErrInvalid},
		{"mode without family", record(func(b []byte) { b[24] = 0 }, true), ErrInvalid},
		{"host without NUL", record(func(b []byte) { copy(b[40:88], strings.Repeat("x", 48)) }, true), ErrInvalid},
		{"program with bytes after the padding", record(func(b []byte) { b[130] = 'x' }, true), ErrInvalid},
		{"detail not UTF-8", record(func(b []byte) { b[136] = 0xff }, true), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRecord(tt.in)
			checkSentinel(t, err, tt.want)
			if got != (Record{}) {
				t.Fatalf("a failed decode returned %+v", got)
			}
			if !strings.HasPrefix(err.Error(), "record") {
				t.Fatalf("error %q does not say it is about the record", err)
			}
		})
	}
}

// TestDecodeRecordLongerInput: only the first RecordSize bytes count, so a
// caller may pass more of the file.
func TestDecodeRecordLongerInput(t *testing.T) {
	b := EncodeRecord(fullRecord())
	in := append(b[:], bytes.Repeat([]byte{0xaa}, 300)...)
	got, err := DecodeRecord(in)
	if err != nil {
		t.Fatal(err)
	}
	want := fullRecord()
	want.Version = 1
	if !sameRecord(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// TestDecodeRecordFlippedBit flips every bit of a valid record in turn:
// none may decode, and each is reported by the check that owns its byte.
func TestDecodeRecordFlippedBit(t *testing.T) {
	valid := EncodeRecord(fullRecord())
	for off := range RecordSize {
		// A flipped version byte leaves a stale checksum: torn, never
		// "newer walguard".
		want := ErrChecksum
		if off < 8 {
			want = ErrNotSidecar
		}
		for bit := range 8 {
			b := valid
			b[off] ^= 1 << bit
			_, err := DecodeRecord(b[:])
			if !errors.Is(err, want) {
				t.Fatalf("bit %d of byte %d flipped: error %v, want %v", bit, off, err, want)
			}
		}
	}
}

// TestDecodeRecordTornWrite splices a new record over an old one at every
// offset, as a write cut short by a crash would leave it: the result is
// either exactly one of the two or refused, never a mix.
func TestDecodeRecordTornWrite(t *testing.T) {
	oldRec := fullRecord()
	newRec := oldRec
	newRec.Generation++
	newRec.Family, newRec.Mode, newRec.Reason = policy.FamilyRollback, policy.ModeDelete, policy.ReasonIncompatible
	newRec.SetAt = oldRec.SetAt.Add(time.Second)
	newRec.Detail = "open -wal: disk I/O error"
	oldRec.Version, newRec.Version = 1, 1
	oldBytes, newBytes := EncodeRecord(oldRec), EncodeRecord(newRec)
	refused := 0
	for cut := 1; cut < RecordSize; cut++ {
		var torn [RecordSize]byte
		copy(torn[:cut], newBytes[:cut])
		copy(torn[cut:], oldBytes[cut:])
		got, err := DecodeRecord(torn[:])
		switch {
		case err != nil:
			checkSentinel(t, err, ErrChecksum)
			refused++
		case torn == oldBytes && sameRecord(got, oldRec), torn == newBytes && sameRecord(got, newRec):
		default:
			t.Fatalf("torn at %d: decoded a mix %+v", cut, got)
		}
	}
	if refused == 0 {
		t.Fatal("no torn write was refused")
	}
}

func TestRecordTextTruncation(t *testing.T) {
	tests := []struct {
		name     string
		in, want string
		max      int
	}{
		{"fits", strings.Repeat("a", 47), strings.Repeat("a", 47), 47},
		{"one byte over", strings.Repeat("a", 48), strings.Repeat("a", 47), 47},
		{"two-byte rune across the limit", strings.Repeat("a", 46) + "é", strings.Repeat("a", 46), 47},
		{"two-byte rune at the limit", strings.Repeat("a", 45) + "é", strings.Repeat("a", 45) + "é", 47},
		{"three-byte rune across the limit", strings.Repeat("a", 45) + "€x", strings.Repeat("a", 45), 47},
		{"four-byte rune across the limit", strings.Repeat("a", 44) + "😀", strings.Repeat("a", 44), 47},
		{"four-byte runes only", strings.Repeat("😀", 20), strings.Repeat("😀", 11), 47},
		{"NUL ends the text", "host\x00hidden", "host", 47},
		{"invalid UTF-8 replaced", "a\xffb", "a\uFFFDb", 47},
		{"replacement counted after fixing", strings.Repeat("a", 45) + "\xff", strings.Repeat("a", 45), 47},
		{"detail fits", strings.Repeat("d", 111), strings.Repeat("d", 111), 111},
		{"detail over", strings.Repeat("d", 200), strings.Repeat("d", 111), 111},
		{"detail rune across the limit", strings.Repeat("d", 110) + "ß", strings.Repeat("d", 110), 111},
	}
	fields := []struct {
		name string
		max  int
		set  func(*Record, string)
		get  func(Record) string
	}{
		{"host", 47, func(r *Record, s string) { r.Host = s }, func(r Record) string { return r.Host }},
		{"program", 47, func(r *Record, s string) { r.Program = s }, func(r Record) string { return r.Program }},
		{"detail", 111, func(r *Record, s string) { r.Detail = s }, func(r Record) string { return r.Detail }},
	}
	for _, f := range fields {
		for _, tt := range tests {
			if tt.max != f.max {
				continue
			}
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				var r Record
				f.set(&r, tt.in)
				b := EncodeRecord(r)
				got, err := DecodeRecord(b[:])
				if err != nil {
					t.Fatal(err)
				}
				s := f.get(got)
				if s != tt.want {
					t.Fatalf("got %q (%d bytes), want %q", s, len(s), tt.want)
				}
				if !utf8.ValidString(s) || len(s) > f.max {
					t.Fatalf("stored %q is not valid UTF-8 of at most %d bytes", s, f.max)
				}
			})
		}
	}
}

func TestRecordValidate(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		ok   bool
	}{
		{"zero", Record{}, true},
		{"full", fullRecord(), true},
		{"every protocol", Record{Protocol: policy.NumProtocols - 1}, true},
		{"protocol past the last", Record{Protocol: policy.NumProtocols}, false},
		{"family 3", Record{Family: 3}, false},
		{"mode 7", Record{Mode: 7}, false},
		{"reason 15", Record{Reason: 15}, false},
		{"wal family, delete mode", Record{Family: policy.FamilyWAL, Mode: policy.ModeDelete}, false},
		{"rollback family, wal mode", Record{Family: policy.FamilyRollback, Mode: policy.ModeWAL}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rec.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tt.ok {
				checkSentinel(t, err, ErrInvalid)
				// What Validate refuses, DecodeRecord refuses too.
				b := EncodeRecord(tt.rec)
				if _, err := DecodeRecord(b[:]); !errors.Is(err, ErrInvalid) {
					t.Fatalf("DecodeRecord accepted what Validate refused: %v", err)
				}
			}
		})
	}
}

func TestRecordString(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		want string
	}{
		{"no detail", func() Record { r := fullRecord(); r.Detail = ""; return r }(),
			"wal (mode wal, protocol ofd) gen 3, set by walguard-test pid 4242 on host-a at 2026-11-28T10:00:00Z: journal_mode pragma"},
		{"detail", fullRecord(),
			"wal (mode wal, protocol ofd) gen 3, set by walguard-test pid 4242 on host-a at 2026-11-28T10:00:00Z: journal_mode pragma (journal_mode=WAL by the test)"},
		{"zero", Record{},
			"unknown (mode unknown, protocol unknown) gen 0, set by unknown program pid 0 on unknown host at unknown time: none"},
		{"newline quoted", Record{Family: policy.FamilyRollback, Mode: policy.ModeDelete, Protocol: policy.ProtocolPOSIX,
			Reason: policy.ReasonRebuilt, Generation: 7, SetterPID: 1, Program: "a\nb", Host: "h",
			SetAt: time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("X", 7200)), Detail: "line1\nline2"},
			`rollback (mode delete, protocol posix) gen 7, set by "a\nb" pid 1 on h at 2026-01-02T01:04:05.0000006Z: record rebuilt ("line1\nline2")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rec.String(); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRecordMarshalJSON(t *testing.T) {
	r := fullRecord()
	r.SetAt = time.Date(2026, 11, 28, 10, 0, 0, 5, time.UTC)
	b := EncodeRecord(r)
	r, err := DecodeRecord(b[:])
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	want := map[string]any{
		"version": 1.0, "generation": 3.0, "family": "wal", "mode": "wal", "protocol": "ofd",
		"reason": "journal_mode pragma", "setter_pid": 4242.0, "set_at": "2026-11-28T10:00:00.000000005Z",
		"host": "host-a", "program": "walguard-test", "detail": "journal_mode=WAL by the test",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}

	// Through a pointer too, as a field of a larger report, and no set_at
	// for the zero time.
	out, err = json.Marshal(struct {
		R *Record `json:"r"`
	}{&Record{}})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(out); !strings.Contains(s, `"family":"unknown"`) || strings.Contains(s, "set_at") {
		t.Fatalf("zero record as JSON: %s", s)
	}
}

// goldenRecord is the record in testdata/record-v1.bin.
func goldenRecord() Record {
	return Record{
		Version:    1,
		Generation: 0x0102030405060708,
		Family:     policy.FamilyWAL,
		Mode:       policy.ModeWAL,
		Protocol:   policy.ProtocolOFD,
		Reason:     policy.ReasonPragma,
		SetterPID:  4242,
		SetAt:      time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC),
		Host:       "host-a",
		Program:    "walguard-test",
		Detail:     "golden fixture for record version 1",
	}
}

// TestGoldenRecord decodes the version 1 fixture and checks its bytes
// field by field, so that a change to the layout cannot pass unnoticed.
func TestGoldenRecord(t *testing.T) {
	path := filepath.Join("testdata", "record-v1.bin")
	if *updateGolden {
		b := EncodeRecord(goldenRecord())
		if err := os.WriteFile(path, b[:], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 256 {
		t.Fatalf("fixture is %d bytes, want 256", len(b))
	}
	text := func(s string, size int) []byte { f := make([]byte, size); copy(f, s); return f }
	fields := []struct {
		name string
		off  int
		want []byte
	}{
		{"magic", 0, []byte("WALGUARD")},
		{"version", 8, []byte{0x00, 0x01}},
		{"length", 10, []byte{0x01, 0x00}},
		{"slot count", 12, []byte{0x00, 0x80}},
		{"flags", 14, []byte{0x00, 0x00}},
		{"generation", 16, []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}},
		{"family", 24, []byte{2}},
		{"mode", 25, []byte{5}},
		{"protocol", 26, []byte{1}},
		{"reason", 27, []byte{2}},
		{"setter pid", 28, []byte{0x00, 0x00, 0x10, 0x92}},
		{"set at", 32, []byte{0x18, 0xec, 0x2d, 0x27, 0xbd, 0xb1, 0x0d, 0x15}},
		{"host", 40, text("host-a", 48)},
		{"program", 88, text("walguard-test", 48)},
		{"detail", 136, text("golden fixture for record version 1", 112)},
		{"reserved", 248, []byte{0, 0, 0, 0}},
		{"crc32c", 252, binary.BigEndian.AppendUint32(nil, crc32.Checksum(b[:252], crc32.MakeTable(crc32.Castagnoli)))},
	}
	next := 0
	for _, f := range fields {
		if f.off != next {
			t.Fatalf("field %s at %d leaves a gap or overlap after %d", f.name, f.off, next)
		}
		next = f.off + len(f.want)
		if got := b[f.off:next]; !bytes.Equal(got, f.want) {
			t.Errorf("%s at %d: % x, want % x", f.name, f.off, got, f.want)
		}
	}
	if next != 256 {
		t.Fatalf("fields cover %d bytes, want 256", next)
	}

	got, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if !sameRecord(got, goldenRecord()) {
		t.Fatalf("decoded %+v\nwant    %+v", got, goldenRecord())
	}
	if enc := EncodeRecord(got); !bytes.Equal(enc[:], b) {
		t.Fatal("EncodeRecord no longer writes the fixture's bytes")
	}
}

// goldenSwitchRecord is the record in testdata/record-v2.bin: a switch
// from rollback to WAL under way.
func goldenSwitchRecord() Record {
	r := goldenRecord()
	r.Version = 2
	r.Detail = "golden fixture for record version 2"
	r.Switch = SwitchIntent{Pending: true, From: policy.FamilyRollback, Slot: 5}
	return r
}

// TestGoldenSwitchRecord checks the bytes version 2 adds: the flag, the
// family switched from and the switcher's slot.
func TestGoldenSwitchRecord(t *testing.T) {
	path := filepath.Join("testdata", "record-v2.bin")
	if *updateGolden {
		b := EncodeRecord(goldenSwitchRecord())
		if err := os.WriteFile(path, b[:], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 256 {
		t.Fatalf("fixture is %d bytes, want 256", len(b))
	}
	for _, f := range []struct {
		name string
		off  int
		want []byte
	}{
		{"version", 8, []byte{0x00, 0x02}},
		{"flags", 14, []byte{0x00, 0x01}},
		{"switch from", 248, []byte{1}},
		{"switch slot", 249, []byte{5}},
		{"reserved", 250, []byte{0, 0}},
		{"crc32c", 252, binary.BigEndian.AppendUint32(nil, crc32.Checksum(b[:252], crc32.MakeTable(crc32.Castagnoli)))},
	} {
		if got := b[f.off : f.off+len(f.want)]; !bytes.Equal(got, f.want) {
			t.Errorf("%s at %d: % x, want % x", f.name, f.off, got, f.want)
		}
	}
	got, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if !sameRecord(got, goldenSwitchRecord()) {
		t.Fatalf("decoded %+v\nwant    %+v", got, goldenSwitchRecord())
	}
	if enc := EncodeRecord(got); !bytes.Equal(enc[:], b) {
		t.Fatal("EncodeRecord no longer writes the fixture's bytes")
	}
	// Version 1 readers refuse it as too new instead of rebuilding it.
	v1 := bytes.Clone(b)
	v1[9] = 1
	withCRC(v1)
	if _, err := DecodeRecord(v1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("switch intent labelled version 1: %v, want ErrInvalid", err)
	}
}

func ExampleDecodeRecord() {
	b := EncodeRecord(Record{
		Generation: 3,
		Family:     policy.FamilyWAL,
		Mode:       policy.ModeWAL,
		Protocol:   policy.ProtocolOFD,
		Reason:     policy.ReasonPragma,
		SetterPID:  4242,
		SetAt:      time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
		Host:       "host-a",
		Program:    "walguard-test",
	})
	r, err := DecodeRecord(b[:])
	fmt.Println(r, err)

	b[30] ^= 0x40 // a torn or damaged pid
	_, err = DecodeRecord(b[:])
	fmt.Println(errors.Is(err, ErrChecksum))
	// Output:
	// wal (mode wal, protocol ofd) gen 3, set by walguard-test pid 4242 on host-a at 2026-11-28T10:00:00Z: journal_mode pragma <nil>
	// true
}
