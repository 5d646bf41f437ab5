package lockcheck

import (
	"encoding/binary"
	"io"
)

// journalMagic opens a rollback journal's header.
//
// https://sqlite.org/fileformat2.html#the_rollback_journal
const journalMagic = "\xd9\xd5\x05\xf9\x20\xa1\x63\xd7"

// journalHeaderSize is the part of the journal header this package reads.
const journalHeaderSize = 28

// Answers for JournalInfo.Hot.
const (
	HotYes     = "yes"
	HotNo      = "no"
	HotUnknown = "unknown"
)

// JournalInfo describes a database's rollback journal (-journal).
//
// SQLite calls a journal hot, and rolls it back on the next read, when it
// exists, is not empty, its first byte is not zero (PERSIST mode zeroes the
// header to end a transaction) and no connection holds RESERVED on the
// database, that is, no writer is using it right now.
//
// https://sqlite.org/atomiccommit.html#_hot_rollback_journals
type JournalInfo struct {
	Path         string `json:"path"`
	Exists       bool   `json:"exists"`
	Size         int64  `json:"size"`
	HeaderZeroed bool   `json:"header_zeroed"` // the first byte is zero: not hot
	MagicOK      bool   `json:"magic_ok"`
	Records      uint32 `json:"records"` // nRec; 0xffffffff means "up to the end of the file"
	InitialPages uint32 `json:"initial_pages"`
	SectorSize   uint32 `json:"sector_size"`
	PageSize     uint32 `json:"page_size"`
	// Hot is HotYes, HotNo or HotUnknown (when no lock table could say
	// whether RESERVED is held); HotReason says why.
	Hot       string `json:"hot"`
	HotReason string `json:"hot_reason"`
}

// readJournal reads the journal's header; Hot is decided later, from the
// locks.
func readJournal(path string) (JournalInfo, error) {
	info := JournalInfo{Path: path}
	err := readSideFile(path, journalHeaderSize, &info.Exists, &info.Size, func(_ io.ReaderAt, head []byte) error {
		parseJournalHeader(&info, head)
		return nil
	})
	return info, err
}

// parseJournalHeader fills the header fields of info from the journal's
// first bytes, which may be fewer than a whole header.
func parseJournalHeader(info *JournalInfo, b []byte) {
	info.HeaderZeroed = len(b) == 0 || b[0] == 0
	if len(b) < journalHeaderSize || string(b[:len(journalMagic)]) != journalMagic {
		return
	}
	be := binary.BigEndian
	info.MagicOK = true
	info.Records = be.Uint32(b[8:])
	info.InitialPages = be.Uint32(b[16:])
	info.SectorSize = be.Uint32(b[20:])
	info.PageSize = be.Uint32(b[24:])
}

// lockState is what a lock table says about one lock byte.
type lockState int

const (
	lockUnknown lockState = iota
	lockFree
	lockHeld
)

// decideHot sets Hot and HotReason from the journal's header and whether
// some connection holds RESERVED on the database.
func (j *JournalInfo) decideHot(reserved lockState, why string) {
	switch {
	case !j.Exists:
		j.Hot, j.HotReason = HotNo, "no journal"
	case j.Size == 0:
		j.Hot, j.HotReason = HotNo, "empty journal (truncate mode, or no transaction yet)"
	case j.HeaderZeroed:
		j.Hot, j.HotReason = HotNo, "zeroed header (persist mode, transaction ended)"
	case reserved == lockHeld:
		j.Hot, j.HotReason = HotNo, "a writer holds RESERVED: its transaction is in progress"
	case reserved == lockUnknown:
		j.Hot, j.HotReason = HotUnknown, "journal has a header, but whether a writer holds RESERVED is unknown: "+why
	default:
		j.Hot, j.HotReason = HotYes, "journal has a header and no connection holds RESERVED"
	}
}
