package lockcheck

import (
	"encoding/binary"
	"testing"
)

func testJournalHeader() []byte {
	b := make([]byte, 512)
	copy(b, journalMagic)
	be := binary.BigEndian
	be.PutUint32(b[8:], 3)
	be.PutUint32(b[12:], 0xdeadbeef)
	be.PutUint32(b[16:], 10)
	be.PutUint32(b[20:], 512)
	be.PutUint32(b[24:], 4096)
	return b
}

func TestParseJournalHeader(t *testing.T) {
	var j JournalInfo
	parseJournalHeader(&j, testJournalHeader())
	if j.HeaderZeroed || !j.MagicOK || j.Records != 3 || j.InitialPages != 10 || j.SectorSize != 512 || j.PageSize != 4096 {
		t.Fatalf("%+v", j)
	}
	for _, tc := range []struct {
		name          string
		b             []byte
		zeroed, magic bool
	}{
		{"empty", nil, true, false},
		{"zeroed", make([]byte, 512), true, false},
		{"short", testJournalHeader()[:20], false, false},
		{"garbage", []byte("not a journal header at all, really"), false, false},
	} {
		var j JournalInfo
		parseJournalHeader(&j, tc.b)
		if j.HeaderZeroed != tc.zeroed || j.MagicOK != tc.magic {
			t.Errorf("%s: zeroed %t magic %t, want %t %t", tc.name, j.HeaderZeroed, j.MagicOK, tc.zeroed, tc.magic)
		}
	}
}

func TestDecideHot(t *testing.T) {
	withHeader := JournalInfo{Exists: true, Size: 4608, MagicOK: true}
	for _, tc := range []struct {
		name     string
		j        JournalInfo
		reserved lockState
		want     string
	}{
		{"absent", JournalInfo{}, lockFree, HotNo},
		{"empty", JournalInfo{Exists: true}, lockFree, HotNo},
		{"zeroed header", JournalInfo{Exists: true, Size: 512, HeaderZeroed: true}, lockFree, HotNo},
		{"writer active", withHeader, lockHeld, HotNo},
		{"no writer", withHeader, lockFree, HotYes},
		{"no lock table", withHeader, lockUnknown, HotUnknown},
		{"absent, no lock table", JournalInfo{}, lockUnknown, HotNo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := tc.j
			j.decideHot(tc.reserved, "test")
			if j.Hot != tc.want || j.HotReason == "" {
				t.Fatalf("hot %q (%s), want %q", j.Hot, j.HotReason, tc.want)
			}
		})
	}
}
