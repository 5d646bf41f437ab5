package lockcheck

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/walguard/walguard/policy"
)

// testHeader returns a database header with the given page size field and
// read/write versions, and distinct values in every other field.
func testHeader(pageSize uint16, write, read byte) []byte {
	b := make([]byte, HeaderSize)
	copy(b, sqliteMagic)
	be := binary.BigEndian
	be.PutUint16(b[16:], pageSize)
	b[18], b[19], b[20] = write, read, 8
	be.PutUint32(b[24:], 7)  // change counter
	be.PutUint32(b[28:], 42) // page count
	be.PutUint32(b[32:], 3)
	be.PutUint32(b[36:], 4)
	be.PutUint32(b[40:], 5) // schema cookie
	be.PutUint32(b[44:], 4)
	be.PutUint32(b[56:], 2)          // UTF-16le
	be.PutUint32(b[60:], 99)         // user version
	be.PutUint32(b[68:], 0x0f055112) // application id
	be.PutUint32(b[92:], 7)          // version-valid-for
	be.PutUint32(b[96:], 3054001)
	return b
}

func TestParseHeader(t *testing.T) {
	h, err := ParseHeader(testHeader(1, 2, 2))
	if err != nil {
		t.Fatal(err)
	}
	want := DBHeader{
		PageSize: 65536, WriteVersion: 2, ReadVersion: 2, Family: policy.FamilyWAL, ReservedBytes: 8,
		ChangeCounter: 7, PageCount: 42, PageCountValid: true, FreelistTrunk: 3, FreelistPages: 4,
		SchemaCookie: 5, SchemaFormat: 4, TextEncoding: 2, UserVersion: 99, ApplicationID: 0x0f055112,
		VersionValidFor: 7, SQLiteVersion: 3054001,
	}
	if h != want {
		t.Fatalf("ParseHeader:\n got %+v\nwant %+v", h, want)
	}
	if got := h.SQLiteVersionString(); got != "3.54.1" {
		t.Errorf("SQLiteVersionString = %q, want 3.54.1", got)
	}
	if got := h.TextEncodingName(); got != "UTF-16le" {
		t.Errorf("TextEncodingName = %q, want UTF-16le", got)
	}
}

func TestParseHeaderFields(t *testing.T) {
	stale := testHeader(4096, 1, 1)
	binary.BigEndian.PutUint32(stale[92:], 6) // written by a SQLite older than 3.7.0
	for _, tc := range []struct {
		name      string
		b         []byte
		pageSize  uint32
		family    policy.Family
		countGood bool
	}{
		{"rollback", testHeader(4096, 1, 1), 4096, policy.FamilyRollback, true},
		{"wal", testHeader(512, 2, 2), 512, policy.FamilyWAL, true},
		{"64k", testHeader(1, 1, 1), 65536, policy.FamilyRollback, true},
		{"mixed versions", testHeader(4096, 1, 2), 4096, policy.FamilyUnknown, true},
		{"stale page count", stale, 4096, policy.FamilyRollback, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseHeader(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if h.PageSize != tc.pageSize || h.Family != tc.family || h.PageCountValid != tc.countGood {
				t.Fatalf("page size %d family %s count valid %t, want %d %s %t",
					h.PageSize, h.Family, h.PageCountValid, tc.pageSize, tc.family, tc.countGood)
			}
		})
	}
}

func TestParseHeaderRejects(t *testing.T) {
	badMagic := testHeader(4096, 1, 1)
	copy(badMagic, "SQLite format 2\x00")
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", testHeader(4096, 1, 1)[:99]},
		{"bad magic", badMagic},
		{"text", []byte("root:x:0:0:root:/root:/bin/bash\n" + string(make([]byte, 80)))},
		{"page size 0", testHeader(0, 1, 1)},
		{"page size 256", testHeader(256, 1, 1)},
		{"page size not a power of two", testHeader(4000, 1, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseHeader(tc.b); !errors.Is(err, ErrNotDatabase) {
				t.Fatalf("ParseHeader: %v, want ErrNotDatabase", err)
			}
		})
	}
}

// TestParseHeaderOfRealDatabase reads a header SQLite wrote.
func TestParseHeaderOfRealDatabase(t *testing.T) {
	db := newDB(t, "PRAGMA page_size=8192", "PRAGMA user_version=12", "PRAGMA application_id=77",
		"PRAGMA journal_mode=WAL", "CREATE TABLE t(x)")
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.PageSize != 8192 || h.Family != policy.FamilyWAL || h.UserVersion != 12 || h.ApplicationID != 77 ||
		h.TextEncoding != 1 || h.SQLiteVersion < 3_000_000 {
		t.Fatalf("header of a real database: %+v", h)
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add(testHeader(4096, 1, 1))
	f.Add(testHeader(1, 2, 2))
	f.Add([]byte(sqliteMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		if !validPageSize(h.PageSize) {
			t.Fatalf("accepted page size %d", h.PageSize)
		}
		_ = h.SQLiteVersionString() + h.TextEncodingName()
		if _, err := h.MarshalJSON(); err != nil {
			t.Fatal(err)
		}
	})
}
