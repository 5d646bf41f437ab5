package lockcheck

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/walguard/walguard/internal/dbpath"
	"github.com/walguard/walguard/internal/hostid"
	"github.com/walguard/walguard/internal/nlink"
	"github.com/walguard/walguard/sidecar"
)

// Verdicts, as Report.Verdict spells them.
const (
	VerdictConsistent = "consistent"
	VerdictHazard     = "hazard"
)

// A Lock is one kernel lock on one of the database's files.
type Lock struct {
	File    string `json:"file"` // RoleDB, RoleWAL, RoleSHM, RoleJournal or RoleSidecar
	Path    string `json:"path"`
	Kind    string `json:"kind"`   // KindPOSIX, KindOFD, KindFlock, ...
	Access  string `json:"access"` // "read" or "write"
	PID     int    `json:"pid"`    // 0 when no process could be found
	Command string `json:"command"`
	Start   int64  `json:"start"`
	End     int64  `json:"end"`   // inclusive; -1 means to the end of the file
	Range   string `json:"range"` // as SQLite names the bytes; see RangeName
	Blocked bool   `json:"blocked,omitempty"`
}

// A Report is everything Inspect found about one database.
type Report struct {
	Path    string         `json:"path"`
	Size    int64          `json:"size"`
	Names   uint64         `json:"names"` // hard links to the database file (st_nlink); 0 where unknown
	Host    string         `json:"host"`  // this host's identity, as walguard records it
	Header  DBHeader       `json:"header"`
	WAL     WALInfo        `json:"wal"`
	SHM     SHMInfo        `json:"shm"`
	Journal JournalInfo    `json:"journal"`
	Sidecar sidecar.Status `json:"sidecar"` // the same object as PRAGMA walguard_status's
	// LockTable names where Locks came from ("/proc/locks"); empty when
	// there is none, and LockTableError says why.
	LockTable      string `json:"lock_table"`
	LockTableError string `json:"lock_table_error,omitempty"`
	Locks          []Lock `json:"locks"`
	// WithoutWalguard are the processes holding SQLite's own locks on the
	// database or -shm without a walguard slot (from Locks).
	WithoutWalguard []ForeignParticipant `json:"without_walguard"`
	Hazards         []Hazard             `json:"hazards"`
	Verdict         string               `json:"verdict"` // VerdictConsistent or VerdictHazard
	// Notes are things worth knowing that are not hazards: a part that
	// could not be read, a stale -shm, a change in progress.
	Notes []string `json:"notes"`
}

// Consistent reports whether Inspect found no hazard.
func (r *Report) Consistent() bool { return len(r.Hazards) == 0 }

// Inspect reports on the database at dbPath and the files around it: the
// header, the -wal, -shm and -journal files, the walguard sidecar, the
// kernel locks on them (Linux), and the hazards it sees.
//
// Inspect never writes, never creates a file and never takes a lock: it
// opens files read-only, reads them with plain reads, tests the sidecar's
// lock bytes with F_OFD_GETLK (see ReadSnapshot) and reads /proc/locks.
// It cannot stall an application. One caveat is POSIX's: closing any
// descriptor of a file drops every POSIX lock the calling process holds on
// it, so do not call Inspect from a process that holds POSIX locks on the
// database (C SQLite through cgo); walguard's own locks, and ncruces's,
// are OFD locks and are not affected. The walguard check command runs in a
// process of its own.
//
// The error is for a database that cannot be read at all: missing, not a
// regular file, unreadable, or not SQLite (ErrNotDatabase). Whatever else
// cannot be read becomes a note in the report.
func Inspect(dbPath string) (*Report, error) {
	resolved, err := dbpath.Resolve(dbPath)
	if err != nil {
		return nil, fmt.Errorf("cannot read database: %w", err)
	}
	r := &Report{Path: resolved, Host: hostid.Identity(), Locks: []Lock{}, Hazards: []Hazard{}, Notes: []string{}}
	if abs, _ := filepath.Abs(dbPath); abs == resolved {
		r.Path = filepath.Clean(dbPath) // no link on the way: keep the name as given
	} else {
		r.note("%s resolves to %s, as SQLite names it; its -journal, -wal, -shm and sidecar are next to that", dbPath, resolved)
	}
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	if r.WAL, err = readWAL(r.Path + "-wal"); err != nil {
		r.note("wal: %v", err)
	}
	if r.SHM, err = readSHM(r.Path + "-shm"); err != nil {
		r.note("shm: %v", err)
	}
	if r.Journal, err = readJournal(r.Path + "-journal"); err != nil {
		r.note("journal: %v", err)
	}
	r.readSidecar()
	if n, known, err := nlink.Count(r.Path); err == nil && known {
		r.Names = n
	}
	r.readLocks()
	r.WithoutWalguard = foreignFrom(r.Locks, r.Sidecar, r.Host)
	r.decideCheckpoint()
	r.Journal.decideHot(r.reservedState())
	r.findHazards()
	r.Verdict = VerdictConsistent
	if len(r.Hazards) > 0 {
		r.Verdict = VerdictHazard
	}
	return r, nil
}

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// errNotRegular reports a path that is a directory, a device or a FIFO:
// opening a FIFO to read would block.
var errNotRegular = errors.New("not a regular file")

// openReadOnly opens path read-only, never creating it. A missing file is
// (nil, 0, nil).
func openReadOnly(path string) (*os.File, int64, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s: %w (%s)", path, errNotRegular, fi.Mode().Type())
	}
	// Without blocking: a FIFO swapped in since the stat must not hang us.
	f, err := os.OpenFile(path, os.O_RDONLY|oNonBlock, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil // removed since the stat
	}
	if err != nil {
		return nil, 0, err
	}
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s: %w (%s)", path, errNotRegular, fi.Mode().Type())
	}
	return f, fi.Size(), nil
}

// readSideFile opens the optional file at path read-only (never creating
// it), records that it exists and its size, and hands its first n bytes to
// parse. A missing file is no error, and parse is not called.
func readSideFile(path string, n int, exists *bool, size *int64, parse func(r io.ReaderAt, head []byte) error) error {
	f, sz, err := openReadOnly(path)
	if f == nil {
		return err
	}
	defer f.Close()
	*exists, *size = true, sz
	b := make([]byte, n)
	m, err := f.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return parse(f, b[:m])
}

func (r *Report) readHeader() error {
	f, size, err := openReadOnly(r.Path)
	if err != nil {
		return fmt.Errorf("cannot read database: %w", err)
	}
	if f == nil {
		return fmt.Errorf("cannot read database: %s: %w", r.Path, fs.ErrNotExist)
	}
	defer f.Close()
	r.Size = size
	var b [HeaderSize]byte
	n, err := f.ReadAt(b[:], 0)
	if err != nil && err != io.EOF {
		return fmt.Errorf("cannot read database: %s: %w", r.Path, err)
	}
	if r.Header, err = ParseHeader(b[:n]); err != nil {
		return fmt.Errorf("cannot read database: %s: %w", r.Path, err)
	}
	return nil
}

func (r *Report) readSidecar() {
	r.Sidecar, _ = sidecar.ReadStatus(r.Path) // an error is in Sidecar.Error
	if r.Sidecar.AgreementHeld {
		r.note("sidecar: the agreement byte is held: a participant is joining or changing the record right now; run check again if a hazard is reported")
	}
}

// readLocks fills Locks from the kernel's lock table.
func (r *Report) readLocks() {
	roles := []struct{ role, path string }{
		{RoleDB, r.Path},
		{RoleWAL, r.WAL.Path},
		{RoleSHM, r.SHM.Path},
		{RoleJournal, r.Journal.Path},
		{RoleSidecar, r.Sidecar.Path},
	}
	files := map[fileID]string{}
	roleOf := map[fileID]int{}
	for i, f := range roles {
		if f.path == "" {
			continue
		}
		fi, err := os.Stat(f.path)
		if err != nil {
			continue
		}
		if id, ok := fileIdentity(fi); ok {
			files[id] = f.path
			roleOf[id] = i
		}
	}
	table, source, err := readLockTable(files)
	r.LockTable = source
	if err != nil {
		r.LockTable, r.LockTableError = "", err.Error()
		return
	}
	names := map[int]string{}
	for _, l := range table {
		if l.Kind == KindLease {
			continue
		}
		role := roles[roleOf[l.fileID()]]
		if _, ok := names[l.PID]; !ok {
			names[l.PID] = processName(l.PID)
		}
		pid := max(l.PID, 0)
		r.Locks = append(r.Locks, Lock{
			File: role.role, Path: role.path, Kind: l.Kind, Access: l.Access,
			PID: pid, Command: names[l.PID], Start: l.Start, End: l.End,
			Range:   RangeName(role.role, l.Start, l.End, l.Access == "write"),
			Blocked: l.Blocked,
		})
	}
	order := map[string]int{}
	for i, f := range roles {
		order[f.role] = i
	}
	slices.SortStableFunc(r.Locks, func(a, b Lock) int {
		return cmp.Or(cmp.Compare(order[a.File], order[b.File]), cmp.Compare(a.Start, b.Start), cmp.Compare(a.PID, b.PID))
	})
}

// reservedState says whether a connection holds RESERVED on the database,
// and if that is unknown, why.
func (r *Report) reservedState() (lockState, string) {
	if r.LockTable == "" {
		return lockUnknown, "no kernel lock table (" + r.LockTableError + ")"
	}
	flock := false
	for _, l := range r.Locks {
		if l.File != RoleDB || l.Blocked {
			continue
		}
		if l.Kind == KindFlock {
			flock = true
		}
		if l.Access == "write" && l.Start <= ReservedByte && (l.End < 0 || ReservedByte <= l.End) {
			return lockHeld, ""
		}
	}
	if flock {
		return lockUnknown, "flock(2) locks on the database do not show RESERVED"
	}
	return lockFree, ""
}

// decideCheckpoint compares the WAL's committed frames with the -shm's
// mxFrame and nBackfill.
func (r *Report) decideCheckpoint() {
	w := &r.WAL
	if !w.Exists {
		return
	}
	w.PendingFrames = w.CommittedFrames
	if w.CommittedFrames == 0 {
		w.Checkpoint = CheckpointEmpty
		return
	}
	w.Checkpoint = CheckpointFramesPresent
	h := r.SHM.Header
	if h == nil || w.Header == nil {
		return
	}
	if !h.Usable() {
		r.note("shm: the WAL-index header is not usable (initialised %t, checksum ok %t, copies equal %t); the next connection rebuilds it", h.IsInit, h.CksumOK, h.CopiesEqual)
		return
	}
	if h.Salt != w.Header.Salt {
		r.note("shm: the WAL-index salts differ from the -wal header's: the -shm is stale; the next connection rebuilds it")
		return
	}
	w.PendingFrames = max(int64(h.MaxFrame)-int64(h.Backfill), 0)
	if w.PendingFrames > 0 {
		w.Checkpoint = CheckpointPending
	} else {
		w.Checkpoint = CheckpointDone
	}
}
