package sidecar

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/walguard/walguard/policy"
)

// Random bytes almost never carry a matching CRC, so each fuzz input is
// decoded twice: as it is, and with its checksum made right, which lets the
// fuzzer reach the field checks behind the checksum.

func FuzzDecodeRecord(f *testing.F) {
	seeds := [][]byte{nil, {}, make([]byte, RecordSize), []byte("WALGUARD")}
	for _, r := range []Record{{}, fullRecord(), goldenRecord(), goldenSwitchRecord(),
		{Family: policy.FamilyRollback, Mode: policy.ModeOff, Reason: policy.ReasonForeignFlipRefused, SetAt: time.Unix(0, -1)}} {
		b := EncodeRecord(r)
		seeds = append(seeds, b[:], b[:RecordSize/2], append(b[:], 0xff))
	}
	for _, name := range []string{"record-v1.bin", "record-v2.bin"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			seeds = append(seeds, b)
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkRecordDecode(t, in)
		if len(in) >= RecordSize {
			fixed := withCRC(bytes.Clone(in[:RecordSize]))
			checkRecordDecode(t, fixed)
		}
	})
}

func checkRecordDecode(t *testing.T, in []byte) {
	r, err := DecodeRecord(in)
	if err != nil {
		checkClassified(t, err)
		if r != (Record{}) {
			t.Fatalf("failed decode returned %+v", r)
		}
		return
	}
	if len(in) < RecordSize {
		t.Fatalf("decoded %d bytes", len(in))
	}
	if r.Version < 1 || r.Version > RecordVersion {
		t.Fatalf("decoded version %d", r.Version)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("decoded record does not validate: %v", err)
	}
	if enc := EncodeRecord(r); !bytes.Equal(enc[:], in[:RecordSize]) {
		t.Fatalf("re-encoding changed the bytes\n in % x\nout % x", in[:RecordSize], enc[:])
	}
	_ = r.String()
	if out, err := r.MarshalJSON(); err != nil || !json.Valid(out) {
		t.Fatalf("MarshalJSON: %s, %v", out, err)
	}
}

func FuzzDecodeSlot(f *testing.F) {
	seeds := [][]byte{nil, {}, make([]byte, SlotSize), []byte("WGSL\x00\x01")}
	ro := goldenSlot()
	for _, s := range []Slot{{}, fullSlot(), ro, {PID: 1, Mode: policy.ModeWAL, Since: time.Unix(0, 1)}} {
		b := EncodeSlot(s)
		seeds = append(seeds, b[:], b[:SlotSize-1], append(b[:], 0))
	}
	if b, err := os.ReadFile(filepath.Join("testdata", "slot-v1.bin")); err == nil {
		seeds = append(seeds, b)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkSlotDecode(t, in)
		if len(in) >= SlotSize {
			fixed := withCRC(bytes.Clone(in[:SlotSize]))
			checkSlotDecode(t, fixed)
		}
	})
}

func checkSlotDecode(t *testing.T, in []byte) {
	s, err := DecodeSlot(in)
	if err != nil {
		checkClassified(t, err)
		if s != (Slot{}) {
			t.Fatalf("failed decode returned %+v", s)
		}
		return
	}
	if len(in) < SlotSize {
		t.Fatalf("decoded %d bytes", len(in))
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("decoded slot does not validate: %v", err)
	}
	if enc := EncodeSlot(s); !bytes.Equal(enc[:], in[:SlotSize]) {
		t.Fatalf("re-encoding changed the bytes\n in % x\nout % x", in[:SlotSize], enc[:])
	}
	_ = s.String()
	if out, err := s.MarshalJSON(); err != nil || !json.Valid(out) {
		t.Fatalf("MarshalJSON: %s, %v", out, err)
	}
}

// checkClassified fails unless err matches exactly one sentinel, so that
// callers can always tell a fresh sidecar from a corrupt or newer one.
func checkClassified(t *testing.T, err error) {
	t.Helper()
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %v matches %d sentinels, want 1", err, n)
	}
}
