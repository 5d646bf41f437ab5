package lockcheck

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// testWALHeader returns a WAL header with a correct checksum.
func testWALHeader(magic, version, pageSize uint32) []byte {
	b := make([]byte, WALHeaderSize)
	be := binary.BigEndian
	be.PutUint32(b[0:], magic)
	be.PutUint32(b[4:], version)
	be.PutUint32(b[8:], pageSize)
	be.PutUint32(b[12:], 9)
	be.PutUint32(b[16:], 0x11111111)
	be.PutUint32(b[20:], 0x22222222)
	sum := walChecksum(magic&1 == 1, b[:24], [2]uint32{})
	be.PutUint32(b[24:], sum[0])
	be.PutUint32(b[28:], sum[1])
	return b
}

func TestParseWALHeader(t *testing.T) {
	for _, magic := range []uint32{walMagicLE, walMagicBE} {
		h, err := ParseWALHeader(testWALHeader(magic, walFormatVersion, 4096))
		if err != nil {
			t.Fatal(err)
		}
		if !h.ChecksumOK || h.BigEndianChecksum != (magic == walMagicBE) || h.PageSize != 4096 ||
			h.CheckpointSeq != 9 || h.Salt != [2]uint32{0x11111111, 0x22222222} {
			t.Fatalf("magic 0x%08x: %+v", magic, h)
		}
		torn := testWALHeader(magic, walFormatVersion, 4096)
		torn[13] ^= 1 // checkpoint sequence
		if h, err := ParseWALHeader(torn); err != nil || h.ChecksumOK {
			t.Fatalf("torn header: checksum ok %t, err %v; want a bad checksum and no error", h.ChecksumOK, err)
		}
	}
}

func TestParseWALHeaderRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", testWALHeader(walMagicLE, walFormatVersion, 4096)[:31]},
		{"bad magic", testWALHeader(0x377f0684, walFormatVersion, 4096)},
		{"bad version", testWALHeader(walMagicLE, 3007001, 4096)},
		{"bad page size", testWALHeader(walMagicLE, walFormatVersion, 1000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseWALHeader(tc.b); !errors.Is(err, ErrBadWAL) {
				t.Fatalf("ParseWALHeader: %v, want ErrBadWAL", err)
			}
		})
	}
}

// liveWAL opens a WAL database and commits n transactions, each adding a
// page, and keeps the connection open so that the -wal and -shm stay.
func liveWAL(t *testing.T, n int) string {
	t.Helper()
	path := dbPath(t)
	c := openDB(t, path, "PRAGMA journal_mode=WAL", "PRAGMA wal_autocheckpoint=0", "CREATE TABLE t(x)")
	for range n {
		if err := c.Exec("INSERT INTO t VALUES(zeroblob(3000))"); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestReadWALMatchesSQLite checks the frame checksums against frames
// SQLite wrote, and against the mxFrame SQLite keeps in the -shm.
func TestReadWALMatchesSQLite(t *testing.T) {
	path := liveWAL(t, 3)
	w, err := readWAL(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	s, err := readSHM(path + "-shm")
	if err != nil {
		t.Fatal(err)
	}
	if w.Header == nil || !w.Header.ChecksumOK || s.Header == nil {
		t.Fatalf("wal %+v shm %+v", w, s)
	}
	if w.Frames < 4 || w.ValidFrames != w.Frames || w.CommittedFrames != w.Frames {
		t.Fatalf("frames %d, valid %d, committed %d: want every frame valid and committed", w.Frames, w.ValidFrames, w.CommittedFrames)
	}
	if int64(s.Header.MaxFrame) != w.CommittedFrames {
		t.Fatalf("shm mxFrame %d, wal committed frames %d", s.Header.MaxFrame, w.CommittedFrames)
	}

	// A copy with one byte of the last page changed loses that frame.
	b, err := os.ReadFile(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	torn := filepath.Join(t.TempDir(), "torn-wal")
	writeFile(t, torn, b)
	w2, err := readWAL(torn)
	if err != nil {
		t.Fatal(err)
	}
	if w2.ValidFrames != w.Frames-1 || w2.CommittedFrames >= w.CommittedFrames {
		t.Fatalf("torn last frame: valid %d committed %d, want valid %d and fewer committed than %d",
			w2.ValidFrames, w2.CommittedFrames, w.Frames-1, w.CommittedFrames)
	}
}

func TestReadWALEmptyAndMissing(t *testing.T) {
	dir := t.TempDir()
	w, err := readWAL(filepath.Join(dir, "missing-wal"))
	if err != nil || w.Exists || w.Checkpoint != CheckpointNoWAL {
		t.Fatalf("missing: %+v %v", w, err)
	}
	empty := filepath.Join(dir, "empty-wal")
	writeFile(t, empty, nil)
	w, err = readWAL(empty)
	if err != nil || !w.Exists || w.Header != nil || w.HeaderError != "" || w.Checkpoint != CheckpointEmpty {
		t.Fatalf("empty: %+v %v", w, err)
	}
	junk := filepath.Join(dir, "junk-wal")
	writeFile(t, junk, bytes.Repeat([]byte("junk"), 100))
	w, err = readWAL(junk)
	if err != nil || w.Header != nil || w.HeaderError == "" {
		t.Fatalf("junk: %+v %v", w, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing-wal")); !os.IsNotExist(err) {
		t.Fatalf("readWAL created the missing file: %v", err)
	}
}

func FuzzParseWALHeader(f *testing.F) {
	f.Add(testWALHeader(walMagicLE, walFormatVersion, 512))
	f.Add(append(testWALHeader(walMagicBE, walFormatVersion, 512), make([]byte, 536*2)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseWALHeader(b)
		if err != nil {
			return
		}
		frames := int64(len(b)-WALHeaderSize) / (walFrameHeaderSize + int64(h.PageSize))
		valid, committed, err := scanFrames(bytes.NewReader(b), h, frames)
		if err != nil || valid > frames || committed > valid {
			t.Fatalf("scanFrames: %d valid, %d committed of %d: %v", valid, committed, frames, err)
		}
	})
}
