package lockcheck

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/walguard/walguard/policy"
)

// HeaderSize is the size of the SQLite database header at the start of
// page 1.
//
// https://sqlite.org/fileformat2.html#the_database_header
const HeaderSize = 100

// sqliteMagic opens every SQLite 3 database file.
const sqliteMagic = "SQLite format 3\x00"

// ErrNotDatabase reports a file that is not a SQLite 3 database: too short
// for the 100-byte header, a wrong magic string, or an impossible page size.
var ErrNotDatabase = errors.New("not a sqlite 3 database")

// A DBHeader is the 100-byte database header, decoded. Integers are as
// stored (big-endian on disk); only PageSize is normalised (the stored 1
// means 65536).
//
// https://sqlite.org/fileformat2.html#the_database_header
type DBHeader struct {
	PageSize       uint32        `json:"page_size"`
	WriteVersion   uint8         `json:"write_version"` // offset 18: 1 rollback, 2 WAL
	ReadVersion    uint8         `json:"read_version"`  // offset 19: 1 rollback, 2 WAL
	Family         policy.Family `json:"family"`        // from offsets 18 and 19 (policy.FamilyOfHeader)
	ReservedBytes  uint8         `json:"reserved_bytes"`
	ChangeCounter  uint32        `json:"change_counter"`
	PageCount      uint32        `json:"page_count"`       // the in-header database size
	PageCountValid bool          `json:"page_count_valid"` // non-zero and the change counter equals VersionValidFor
	FreelistTrunk  uint32        `json:"freelist_trunk"`
	FreelistPages  uint32        `json:"freelist_pages"`
	SchemaCookie   uint32        `json:"schema_cookie"`
	SchemaFormat   uint32        `json:"schema_format"`
	TextEncoding   uint32        `json:"text_encoding"` // 1 UTF-8, 2 UTF-16le, 3 UTF-16be
	UserVersion    uint32        `json:"user_version"`
	ApplicationID  uint32        `json:"application_id"`
	// VersionValidFor is the change counter value when SQLiteVersion was stored.
	VersionValidFor uint32 `json:"version_valid_for"`
	// SQLiteVersion is SQLITE_VERSION_NUMBER of the library that last wrote
	// the file, for example 3054001 for 3.54.1.
	SQLiteVersion uint32 `json:"sqlite_version"`
}

// ParseHeader decodes the database header from the first bytes of a
// database file. It reports ErrNotDatabase for fewer than HeaderSize
// bytes, a wrong magic string or a page size SQLite never writes.
func ParseHeader(b []byte) (DBHeader, error) {
	if len(b) < HeaderSize {
		return DBHeader{}, fmt.Errorf("%w: %d bytes, the header needs %d", ErrNotDatabase, len(b), HeaderSize)
	}
	if string(b[:len(sqliteMagic)]) != sqliteMagic {
		return DBHeader{}, fmt.Errorf("%w: magic %q", ErrNotDatabase, b[:len(sqliteMagic)])
	}
	be := binary.BigEndian
	h := DBHeader{
		PageSize:        uint32(be.Uint16(b[16:])),
		WriteVersion:    b[18],
		ReadVersion:     b[19],
		Family:          policy.FamilyOfHeader(b[18], b[19]),
		ReservedBytes:   b[20],
		ChangeCounter:   be.Uint32(b[24:]),
		PageCount:       be.Uint32(b[28:]),
		FreelistTrunk:   be.Uint32(b[32:]),
		FreelistPages:   be.Uint32(b[36:]),
		SchemaCookie:    be.Uint32(b[40:]),
		SchemaFormat:    be.Uint32(b[44:]),
		TextEncoding:    be.Uint32(b[56:]),
		UserVersion:     be.Uint32(b[60:]),
		ApplicationID:   be.Uint32(b[68:]),
		VersionValidFor: be.Uint32(b[92:]),
		SQLiteVersion:   be.Uint32(b[96:]),
	}
	if h.PageSize == 1 {
		h.PageSize = 65536
	}
	if !validPageSize(h.PageSize) {
		return DBHeader{}, fmt.Errorf("%w: page size %d", ErrNotDatabase, be.Uint16(b[16:]))
	}
	h.PageCountValid = h.PageCount != 0 && h.ChangeCounter == h.VersionValidFor
	return h, nil
}

// validPageSize reports a power of two from 512 to 65536.
func validPageSize(n uint32) bool {
	return n >= 512 && n <= 65536 && n&(n-1) == 0
}

// TextEncodingName returns "UTF-8", "UTF-16le", "UTF-16be", or "unset"
// (0, a database with no schema yet) or "unknown N".
func (h DBHeader) TextEncodingName() string {
	switch h.TextEncoding {
	case 0:
		return "unset"
	case 1:
		return "UTF-8"
	case 2:
		return "UTF-16le"
	case 3:
		return "UTF-16be"
	}
	return fmt.Sprintf("unknown %d", h.TextEncoding)
}

// SQLiteVersionString returns SQLiteVersion as SQLite prints it, for
// example "3.54.1", or "unknown" for 0.
func (h DBHeader) SQLiteVersionString() string {
	return sqliteVersionString(h.SQLiteVersion)
}

func sqliteVersionString(v uint32) string {
	if v == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%d.%d.%d", v/1000000, v/1000%1000, v%1000)
}

// MarshalJSON encodes the header with the family and text encoding by
// name and the SQLite version both as a number and as text.
func (h DBHeader) MarshalJSON() ([]byte, error) {
	type plain DBHeader
	return json.Marshal(struct {
		plain
		Family        string `json:"family"`
		TextEncoding  string `json:"text_encoding"`
		SQLiteVersion string `json:"sqlite_version"`
		VersionNumber uint32 `json:"sqlite_version_number"`
	}{plain(h), h.Family.String(), h.TextEncodingName(), h.SQLiteVersionString(), h.SQLiteVersion})
}
