package sidecar

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walguard/walguard/policy"
)

func fullSlot() Slot {
	return Slot{
		PID:      4242,
		Protocol: policy.ProtocolOFD,
		Family:   policy.FamilyWAL,
		Mode:     policy.ModeWAL,
		Since:    time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
		Host:     "host-a",
		Program:  "walguard-test",
	}
}

func sameSlot(got, want Slot) bool {
	g, w := got, want
	g.Since, w.Since = time.Time{}, time.Time{}
	return g == w && sameTime(got.Since, want.Since)
}

func TestSlotRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		slot Slot
		want Slot // zero: slot itself
	}{
		{name: "zero", slot: Slot{}},
		{name: "full", slot: fullSlot()},
		{name: "read-only", slot: func() Slot { s := fullSlot(); s.ReadOnly = true; return s }()},
		{name: "family not decided", slot: Slot{PID: 1, Protocol: policy.ProtocolPOSIX, Mode: policy.ModeWAL}},
		{name: "mode asked for before the family changes", slot: Slot{Family: policy.FamilyRollback, Mode: policy.ModeWAL, Protocol: policy.ProtocolWindows}},
		{name: "extremes", slot: Slot{PID: math.MaxUint32, Since: time.Unix(0, math.MinInt64).UTC(), Protocol: policy.ProtocolDotlk}},
		{name: "unicode text at the limit", slot: Slot{Host: strings.Repeat("é", 23) + "a", Program: strings.Repeat("p", 47)}},
		{name: "long text cut at a rune boundary", slot: Slot{Host: strings.Repeat("€", 20), Program: strings.Repeat("p", 60)},
			want: Slot{Host: strings.Repeat("€", 15), Program: strings.Repeat("p", 47)}},
		{name: "time in another zone", slot: Slot{Since: time.Date(2026, 3, 4, 5, 6, 7, 8, time.FixedZone("Y", -5*3600))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == (Slot{}) {
				want = tt.slot
			}
			b := EncodeSlot(tt.slot)
			got, err := DecodeSlot(b[:])
			if err != nil {
				t.Fatalf("DecodeSlot: %v", err)
			}
			if !sameSlot(got, want) {
				t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
			}
			if again := EncodeSlot(got); again != b {
				t.Fatal("re-encoding the decoded slot changed its bytes")
			}
		})
	}
}

// slotBytes returns a valid encoded slot after edit changes it; fix
// recomputes the checksum so that only the edit is wrong.
func slotBytes(edit func(b []byte), fix bool) []byte {
	a := EncodeSlot(fullSlot())
	b := a[:]
	edit(b)
	if fix {
		withCRC(b)
	}
	return b
}

func TestDecodeSlotErrors(t *testing.T) {
	valid := EncodeSlot(fullSlot())
	rec := EncodeRecord(fullRecord())
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"nil", nil, ErrNoRecord},
		{"all zero", make([]byte, SlotSize), ErrNoRecord},
		{"short and all zero", make([]byte, 10), ErrNoRecord},
		{"one byte", valid[:1], ErrTruncated},
		{"magic and version", valid[:6], ErrTruncated},
		{"half", valid[:SlotSize/2], ErrTruncated},
		{"one byte short", valid[:SlotSize-1], ErrTruncated},
		{"garbage", bytes.Repeat([]byte("garbage!"), SlotSize/8), ErrNotSidecar},
		{"record where a slot should be", rec[:], ErrNotSidecar},
		{"version 0", slotBytes(func(b []byte) { b[5] = 0 }, true), ErrVersion},
		{"version 2", slotBytes(func(b []byte) { b[5] = 2 }, true), ErrVersion},
		{"version 0x0101 with a stale checksum: torn, not newer", slotBytes(func(b []byte) { b[4] = 1 }, false), ErrChecksum},
		{"checksum flipped", slotBytes(func(b []byte) { b[124] ^= 0x80 }, false), ErrChecksum},
		{"pid changed, stale checksum", slotBytes(func(b []byte) { b[15]++ }, false), ErrChecksum},
		{"protocol 7", slotBytes(func(b []byte) { b[6] = 7 }, true), ErrInvalid},
		{"family 3", slotBytes(func(b []byte) { b[7] = 3 }, true), ErrInvalid},
		{"mode 200", slotBytes(func(b []byte) { b[8] = 200 }, true), ErrInvalid},
		{"unknown flag", slotBytes(func(b []byte) { b[9] = 2 }, true), ErrInvalid},
		{"unknown flag beside read-only", slotBytes(func(b []byte) { b[9] = 0x81 }, true), ErrInvalid},
		{"reserved after flags", slotBytes(func(b []byte) { b[11] = 1 }, true), ErrInvalid},
		{"reserved before checksum", slotBytes(func(b []byte) { b[120] = 1 }, true), ErrInvalid},
		{"host without NUL", slotBytes(func(b []byte) { copy(b[24:72], strings.Repeat("h", 48)) }, true), ErrInvalid},
		{"program not UTF-8", slotBytes(func(b []byte) { b[72] = 0xc3; b[73] = 0x28 }, true), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeSlot(tt.in)
			checkSentinel(t, err, tt.want)
			if got != (Slot{}) {
				t.Fatalf("a failed decode returned %+v", got)
			}
			if !strings.HasPrefix(err.Error(), "slot") {
				t.Fatalf("error %q does not say it is about a slot", err)
			}
		})
	}
}

func TestDecodeSlotFlippedBit(t *testing.T) {
	valid := EncodeSlot(fullSlot())
	for off := range SlotSize {
		want := ErrChecksum // a flipped version byte too: torn, not newer
		if off < 4 {
			want = ErrNotSidecar
		}
		for bit := range 8 {
			b := valid
			b[off] ^= 1 << bit
			_, err := DecodeSlot(b[:])
			if !errors.Is(err, want) {
				t.Fatalf("bit %d of byte %d flipped: error %v, want %v", bit, off, err, want)
			}
		}
	}
}

// TestDecodeSlotTable decodes a slot table as the sidecar holds it: only
// the entries written decode, the rest are ErrNoRecord.
func TestDecodeSlotTable(t *testing.T) {
	table := make([]byte, SlotSize*MaxSlots)
	written := map[int]Slot{0: fullSlot(), 5: {PID: 5, ReadOnly: true}, MaxSlots - 1: {PID: 127, Protocol: policy.ProtocolFlock}}
	for i, s := range written {
		b := EncodeSlot(s)
		copy(table[i*SlotSize:], b[:])
	}
	for i := range MaxSlots {
		got, err := DecodeSlot(table[i*SlotSize:])
		want, ok := written[i]
		switch {
		case ok && err != nil:
			t.Fatalf("slot %d: %v", i, err)
		case ok && !sameSlot(got, want):
			t.Fatalf("slot %d: got %+v, want %+v", i, got, want)
		case !ok:
			checkSentinel(t, err, ErrNoRecord)
		}
	}
}

func TestSlotString(t *testing.T) {
	ro := fullSlot()
	ro.ReadOnly = true
	tests := []struct {
		name string
		slot Slot
		want string
	}{
		{"read-write", fullSlot(), "walguard-test pid 4242 on host-a: protocol ofd, family wal, mode wal, read-write, since 2026-11-28T10:00:00Z"},
		{"read-only", ro, "walguard-test pid 4242 on host-a: protocol ofd, family wal, mode wal, read-only, since 2026-11-28T10:00:00Z"},
		{"zero", Slot{}, "unknown program pid 0 on unknown host: protocol unknown, family unknown, mode unknown, read-write, since unknown time"},
		{"control characters quoted", Slot{PID: 9, Program: "x\ty", Host: "h\x1b"}, `"x\ty" pid 9 on "h\x1b": protocol unknown, family unknown, mode unknown, read-write, since unknown time`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.slot.String(); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestSlotMarshalJSON(t *testing.T) {
	s := fullSlot()
	s.ReadOnly = true
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	want := map[string]any{
		"pid": 4242.0, "protocol": "ofd", "family": "wal", "mode": "wal", "read_only": true,
		"since": "2026-11-28T10:00:00Z", "host": "host-a", "program": "walguard-test",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
	out, err = json.Marshal(&Slot{PID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(out); !strings.Contains(s, `"read_only":false`) || strings.Contains(s, "since") {
		t.Fatalf("zero slot as JSON: %s", s)
	}
}

// goldenSlot is the entry in testdata/slot-v1.bin.
func goldenSlot() Slot {
	return Slot{
		PID:      0x01020304,
		Protocol: policy.ProtocolPOSIX,
		Family:   policy.FamilyRollback,
		Mode:     policy.ModeTruncate,
		ReadOnly: true,
		Since:    time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC),
		Host:     "host-b",
		Program:  "walguard-golden",
	}
}

// TestGoldenSlot decodes the version 1 slot fixture and checks its bytes
// field by field.
func TestGoldenSlot(t *testing.T) {
	path := filepath.Join("testdata", "slot-v1.bin")
	if *updateGolden {
		b := EncodeSlot(goldenSlot())
		if err := os.WriteFile(path, b[:], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 128 {
		t.Fatalf("fixture is %d bytes, want 128", len(b))
	}
	text := func(s string) []byte { f := make([]byte, 48); copy(f, s); return f }
	fields := []struct {
		name string
		off  int
		want []byte
	}{
		{"magic", 0, []byte("WGSL")},
		{"version", 4, []byte{0x00, 0x01}},
		{"protocol", 6, []byte{2}},
		{"family", 7, []byte{1}},
		{"mode", 8, []byte{2}},
		{"flags", 9, []byte{0x01}},
		{"reserved", 10, []byte{0, 0}},
		{"pid", 12, []byte{0x01, 0x02, 0x03, 0x04}},
		{"since", 16, []byte{0x18, 0xec, 0x2d, 0x27, 0xbd, 0xb1, 0x0d, 0x15}},
		{"host", 24, text("host-b")},
		{"program", 72, text("walguard-golden")},
		{"reserved", 120, []byte{0, 0, 0, 0}},
		{"crc32c", 124, binary.BigEndian.AppendUint32(nil, crc32.Checksum(b[:124], crc32.MakeTable(crc32.Castagnoli)))},
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
	if next != 128 {
		t.Fatalf("fields cover %d bytes, want 128", next)
	}
	got, err := DecodeSlot(b)
	if err != nil {
		t.Fatal(err)
	}
	if !sameSlot(got, goldenSlot()) {
		t.Fatalf("decoded %+v\nwant    %+v", got, goldenSlot())
	}
	if enc := EncodeSlot(got); !bytes.Equal(enc[:], b) {
		t.Fatal("EncodeSlot no longer writes the fixture's bytes")
	}
}
