package lockcheck

import (
	"encoding/binary"
	"errors"
	"testing"
)

// testSHMHeader returns a WAL-index header as SQLite writes it on this
// host: both copies equal and checksummed.
func testSHMHeader(szPage uint16, mxFrame, nBackfill uint32) []byte {
	b := make([]byte, SHMHeaderSize)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], walFormatVersion)
	ne.PutUint32(b[8:], 5)
	b[12] = 1
	ne.PutUint16(b[14:], szPage)
	ne.PutUint32(b[16:], mxFrame)
	ne.PutUint32(b[20:], 10)
	binary.BigEndian.PutUint32(b[32:], 0xaabbccdd)
	binary.BigEndian.PutUint32(b[36:], 0x01020304)
	sum := walChecksum(!littleEndianHost(), b[:40], [2]uint32{})
	ne.PutUint32(b[40:], sum[0])
	ne.PutUint32(b[44:], sum[1])
	copy(b[48:96], b[:48])
	ne.PutUint32(b[96:], nBackfill)
	for i := range shmNumReadMarks {
		ne.PutUint32(b[shmReadMarks+4*i:], ReadMarkUnused)
	}
	ne.PutUint32(b[shmReadMarks:], 0)
	ne.PutUint32(b[shmBackfillTry:], nBackfill)
	return b
}

func TestParseSHMHeader(t *testing.T) {
	h, err := ParseSHMHeader(testSHMHeader(1, 7, 3))
	if err != nil {
		t.Fatal(err)
	}
	if !h.Usable() || h.PageSize != 65536 || h.MaxFrame != 7 || h.Backfill != 3 || h.BackfillAttempted != 3 ||
		h.Salt != [2]uint32{0xaabbccdd, 0x01020304} || h.ReadMarks != [5]uint32{0, ReadMarkUnused, ReadMarkUnused, ReadMarkUnused, ReadMarkUnused} {
		t.Fatalf("%+v", h)
	}

	changing := testSHMHeader(4096, 7, 3)
	changing[48+16]++ // the second copy's mxFrame: a writer is mid-update
	if h, _ := ParseSHMHeader(changing); h.CopiesEqual || h.Usable() {
		t.Fatalf("copies differ, but CopiesEqual %t Usable %t", h.CopiesEqual, h.Usable())
	}
	torn := testSHMHeader(4096, 7, 3)
	torn[20]++ // nPage, in the checksummed part of the first copy
	copy(torn[48:96], torn[:48])
	if h, _ := ParseSHMHeader(torn); h.CksumOK || h.Usable() {
		t.Fatalf("bad checksum, but CksumOK %t Usable %t", h.CksumOK, h.Usable())
	}
	if _, err := ParseSHMHeader(testSHMHeader(4096, 1, 1)[:SHMHeaderSize-1]); !errors.Is(err, ErrBadSHM) {
		t.Fatalf("short header: %v, want ErrBadSHM", err)
	}
}

// TestReadSHMOfRealDatabase reads a WAL-index SQLite maintains.
func TestReadSHMOfRealDatabase(t *testing.T) {
	path := liveWAL(t, 2)
	s, err := readSHM(path + "-shm")
	if err != nil {
		t.Fatal(err)
	}
	w, err := readWAL(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	h := s.Header
	if h == nil || !h.Usable() || h.Version != walFormatVersion || h.PageSize != 4096 || h.Salt != w.Header.Salt {
		t.Fatalf("shm %+v, wal salts %x", h, w.Header.Salt)
	}
}

func FuzzParseSHMHeader(f *testing.F) {
	f.Add(testSHMHeader(4096, 2, 1))
	f.Add(make([]byte, SHMHeaderSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseSHMHeader(b)
		if err != nil {
			return
		}
		if h.Usable() && !h.IsInit {
			t.Fatal("usable but not initialised")
		}
	})
}
