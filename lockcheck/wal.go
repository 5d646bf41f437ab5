package lockcheck

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WAL file layout: a 32-byte header, then frames of a 24-byte frame header
// and one page each.
//
// https://sqlite.org/fileformat2.html#the_write_ahead_log
const (
	WALHeaderSize      = 32
	walFrameHeaderSize = 24
	walMagicLE         = 0x377f0682 // checksums over little-endian words
	walMagicBE         = 0x377f0683 // checksums over big-endian words
	walFormatVersion   = 3007000
)

// ErrBadWAL reports a -wal file whose header SQLite would not use: too
// short, a wrong magic number, an unknown format version or an impossible
// page size. SQLite ignores (and later overwrites) such a file.
var ErrBadWAL = errors.New("not a usable sqlite wal header")

// A WALHeader is the 32-byte header of a -wal file, decoded.
//
// https://sqlite.org/fileformat2.html#wal_file_format
type WALHeader struct {
	Magic             uint32    `json:"magic"`
	BigEndianChecksum bool      `json:"big_endian_checksum"` // the magic's low bit
	FormatVersion     uint32    `json:"format_version"`
	PageSize          uint32    `json:"page_size"`
	CheckpointSeq     uint32    `json:"checkpoint_seq"`
	Salt              [2]uint32 `json:"salt"`
	Checksum          [2]uint32 `json:"checksum"`
	// ChecksumOK reports whether Checksum matches the first 24 bytes.
	// SQLite ignores every frame of a WAL whose header checksum is wrong.
	ChecksumOK bool `json:"checksum_ok"`
}

// ParseWALHeader decodes a -wal file's header. It reports ErrBadWAL for
// fewer than WALHeaderSize bytes, a wrong magic, a format version other
// than 3007000 or an impossible page size; a wrong checksum is not an
// error but ChecksumOK false.
func ParseWALHeader(b []byte) (WALHeader, error) {
	if len(b) < WALHeaderSize {
		return WALHeader{}, fmt.Errorf("%w: %d bytes, the header needs %d", ErrBadWAL, len(b), WALHeaderSize)
	}
	be := binary.BigEndian
	h := WALHeader{
		Magic:         be.Uint32(b[0:]),
		FormatVersion: be.Uint32(b[4:]),
		PageSize:      be.Uint32(b[8:]),
		CheckpointSeq: be.Uint32(b[12:]),
		Salt:          [2]uint32{be.Uint32(b[16:]), be.Uint32(b[20:])},
		Checksum:      [2]uint32{be.Uint32(b[24:]), be.Uint32(b[28:])},
	}
	if h.Magic != walMagicLE && h.Magic != walMagicBE {
		return WALHeader{}, fmt.Errorf("%w: magic 0x%08x", ErrBadWAL, h.Magic)
	}
	h.BigEndianChecksum = h.Magic&1 == 1
	if h.FormatVersion != walFormatVersion {
		return WALHeader{}, fmt.Errorf("%w: format version %d, want %d", ErrBadWAL, h.FormatVersion, walFormatVersion)
	}
	if !validPageSize(h.PageSize) {
		return WALHeader{}, fmt.Errorf("%w: page size %d", ErrBadWAL, h.PageSize)
	}
	h.ChecksumOK = walChecksum(h.BigEndianChecksum, b[:24], [2]uint32{}) == h.Checksum
	return h, nil
}

// walChecksum extends the running checksum s over data, whose length is
// a multiple of 8, as SQLite's walChecksumBytes does.
func walChecksum(bigEndian bool, data []byte, s [2]uint32) [2]uint32 {
	var order binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		order = binary.BigEndian
	}
	for i := 0; i+8 <= len(data); i += 8 {
		s[0] += order.Uint32(data[i:]) + s[1]
		s[1] += order.Uint32(data[i+4:]) + s[0]
	}
	return s
}

// WAL checkpoint states, as WALInfo.Checkpoint reports them.
const (
	CheckpointNoWAL         = "no-wal"         // the -wal file does not exist
	CheckpointEmpty         = "empty"          // no committed frame
	CheckpointPending       = "pending"        // the -shm says frames await a checkpoint
	CheckpointDone          = "done"           // the -shm says every frame is in the database
	CheckpointFramesPresent = "frames-present" // committed frames, but no usable -shm to compare
)

// WALInfo describes a database's -wal file.
type WALInfo struct {
	Path        string     `json:"path"`
	Exists      bool       `json:"exists"`
	Size        int64      `json:"size"`
	Header      *WALHeader `json:"header,omitempty"`
	HeaderError string     `json:"header_error,omitempty"`
	// Frames is how many whole frames the file's size holds.
	Frames int64 `json:"frames"`
	// ValidFrames is how many frames, from the first, carry the header's
	// salts and a correct running checksum.
	ValidFrames int64 `json:"valid_frames"`
	// CommittedFrames is the last commit frame among the valid ones: the
	// mxFrame a recovery would find. Valid frames after it belong to a
	// transaction still being written, or torn.
	CommittedFrames int64 `json:"committed_frames"`
	// Checkpoint is one of the Checkpoint* states.
	Checkpoint string `json:"checkpoint"`
	// PendingFrames is mxFrame - nBackfill from the -shm when Checkpoint is
	// pending or done, else CommittedFrames.
	PendingFrames int64 `json:"pending_frames"`
}

// readWAL fills the WAL's header and frame counts from its file.
// It never writes and reads each frame once.
func readWAL(path string) (WALInfo, error) {
	info := WALInfo{Path: path, Checkpoint: CheckpointNoWAL}
	err := readSideFile(path, WALHeaderSize, &info.Exists, &info.Size, func(r io.ReaderAt, head []byte) error {
		info.Checkpoint = CheckpointEmpty
		if len(head) == 0 {
			return nil // an empty WAL, as SQLite leaves after a reset
		}
		h, err := ParseWALHeader(head)
		if err != nil {
			info.HeaderError = err.Error()
			return nil
		}
		info.Header = &h
		frameSize := int64(walFrameHeaderSize) + int64(h.PageSize)
		if info.Size > WALHeaderSize {
			info.Frames = (info.Size - WALHeaderSize) / frameSize
		}
		if !h.ChecksumOK {
			return nil
		}
		info.ValidFrames, info.CommittedFrames, err = scanFrames(r, h, info.Frames)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		return nil
	})
	return info, err
}

// scanFrames follows the chain of frames as WAL recovery does: a frame is
// valid while its salts match the header's and its running checksum is
// right. It returns the valid frames and the last valid commit frame.
func scanFrames(r io.ReaderAt, h WALHeader, frames int64) (valid, committed int64, err error) {
	frameSize := int64(walFrameHeaderSize) + int64(h.PageSize)
	buf := make([]byte, frameSize)
	sum := h.Checksum
	be := binary.BigEndian
	for i := range frames {
		if _, err := r.ReadAt(buf, WALHeaderSize+i*frameSize); err != nil {
			if err == io.EOF { // the file shrank while we read
				return valid, committed, nil
			}
			return valid, committed, err
		}
		if be.Uint32(buf[0:]) == 0 || be.Uint32(buf[8:]) != h.Salt[0] || be.Uint32(buf[12:]) != h.Salt[1] {
			break
		}
		sum = walChecksum(h.BigEndianChecksum, buf[:8], sum)
		sum = walChecksum(h.BigEndianChecksum, buf[walFrameHeaderSize:], sum)
		if be.Uint32(buf[16:]) != sum[0] || be.Uint32(buf[20:]) != sum[1] {
			break
		}
		valid = i + 1
		if be.Uint32(buf[4:]) != 0 { // database size after commit: a commit frame
			committed = i + 1
		}
	}
	return valid, committed, nil
}
