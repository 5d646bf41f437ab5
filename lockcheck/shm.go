package lockcheck

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The start of a -shm file (the WAL-index): two copies of the 48-byte
// WAL-index header, then the checkpoint information. It is written in the
// byte order of the host, except the salts, which are copied byte for byte
// from the big-endian WAL header.
//
// https://sqlite.org/walformat.html#the_wal_index_file_format
const (
	SHMHeaderSize   = 136
	shmHdrCopySize  = 48
	shmCkptInfo     = 2 * shmHdrCopySize
	shmReadMarks    = shmCkptInfo + 4
	shmNumReadMarks = 5
	shmBackfillTry  = shmCkptInfo + 32

	// ReadMarkUnused is the value of a read mark no reader uses.
	ReadMarkUnused = 0xffffffff
)

// ErrBadSHM reports a -shm file too short to hold the WAL-index header.
var ErrBadSHM = errors.New("not a usable wal-index header")

// An SHMHeader is the header of a -shm file (the WAL-index), decoded:
// the first copy of the WAL-index header, whether the second copy equals
// it, and the checkpoint information.
//
// https://sqlite.org/walformat.html#the_wal_index_file_format
type SHMHeader struct {
	Version     uint32    `json:"iversion"`
	Change      uint32    `json:"ichange"`
	IsInit      bool      `json:"is_init"`
	BigEndCksum bool      `json:"big_end_cksum"`
	PageSize    uint32    `json:"sz_page"` // the stored 1 reads as 65536
	MaxFrame    uint32    `json:"mx_frame"`
	Pages       uint32    `json:"n_page"`
	FrameCksum  [2]uint32 `json:"a_frame_cksum"`
	Salt        [2]uint32 `json:"a_salt"` // comparable with WALHeader.Salt
	Cksum       [2]uint32 `json:"a_cksum"`
	// CksumOK reports whether Cksum matches the header's first 40 bytes.
	CksumOK bool `json:"cksum_ok"`
	// CopiesEqual reports whether both copies of the header are the same;
	// they differ only while a writer is updating them, or after a crash.
	CopiesEqual       bool                    `json:"copies_equal"`
	Backfill          uint32                  `json:"n_backfill"`
	ReadMarks         [shmNumReadMarks]uint32 `json:"read_marks"`
	BackfillAttempted uint32                  `json:"n_backfill_attempted"`
}

// ParseSHMHeader decodes the WAL-index header from the first bytes of a
// -shm file, in this host's byte order. It reports ErrBadSHM for fewer
// than SHMHeaderSize bytes; any content is otherwise decoded, and
// IsInit, CksumOK and CopiesEqual say whether it can be trusted.
func ParseSHMHeader(b []byte) (SHMHeader, error) {
	if len(b) < SHMHeaderSize {
		return SHMHeader{}, fmt.Errorf("%w: %d bytes, the header needs %d", ErrBadSHM, len(b), SHMHeaderSize)
	}
	ne := binary.NativeEndian
	h := SHMHeader{
		Version:           ne.Uint32(b[0:]),
		Change:            ne.Uint32(b[8:]),
		IsInit:            b[12] != 0,
		BigEndCksum:       b[13] != 0,
		PageSize:          uint32(ne.Uint16(b[14:])),
		MaxFrame:          ne.Uint32(b[16:]),
		Pages:             ne.Uint32(b[20:]),
		FrameCksum:        [2]uint32{ne.Uint32(b[24:]), ne.Uint32(b[28:])},
		Salt:              [2]uint32{binary.BigEndian.Uint32(b[32:]), binary.BigEndian.Uint32(b[36:])},
		Cksum:             [2]uint32{ne.Uint32(b[40:]), ne.Uint32(b[44:])},
		Backfill:          ne.Uint32(b[shmCkptInfo:]),
		BackfillAttempted: ne.Uint32(b[shmBackfillTry:]),
	}
	if h.PageSize == 1 {
		h.PageSize = 65536
	}
	for i := range h.ReadMarks {
		h.ReadMarks[i] = ne.Uint32(b[shmReadMarks+4*i:])
	}
	// SQLite checksums the header in native byte order (nativeCksum=1).
	h.CksumOK = walChecksum(!littleEndianHost(), b[:40], [2]uint32{}) == h.Cksum
	h.CopiesEqual = string(b[:shmHdrCopySize]) == string(b[shmHdrCopySize:2*shmHdrCopySize])
	return h, nil
}

func littleEndianHost() bool {
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], 1)
	return b[0] == 1
}

// Usable reports whether the header is initialised, checksummed and
// stable, so that its mxFrame and nBackfill can be trusted.
func (h SHMHeader) Usable() bool { return h.IsInit && h.CksumOK && h.CopiesEqual }

// SHMInfo describes a database's -shm file.
type SHMInfo struct {
	Path        string     `json:"path"`
	Exists      bool       `json:"exists"`
	Size        int64      `json:"size"`
	Header      *SHMHeader `json:"header,omitempty"`
	HeaderError string     `json:"header_error,omitempty"`
}

// readSHM reads the WAL-index header with a plain read; it never maps,
// locks or writes the file.
func readSHM(path string) (SHMInfo, error) {
	info := SHMInfo{Path: path}
	err := readSideFile(path, SHMHeaderSize, &info.Exists, &info.Size, func(_ io.ReaderAt, head []byte) error {
		h, err := ParseSHMHeader(head)
		if err != nil {
			info.HeaderError = err.Error()
			return nil
		}
		info.Header = &h
		return nil
	})
	return info, err
}
