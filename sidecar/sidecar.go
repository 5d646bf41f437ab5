package sidecar

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/walguard/walguard/internal/filelock"
	"github.com/walguard/walguard/policy"
)

// Errors of the sidecar file itself.
var (
	// ErrSymlink: a symbolic link stands where the sidecar should be.
	// walguard never follows it, since the link could point anywhere.
	ErrSymlink = errors.New("sidecar is a symbolic link; refusing to follow it")
	// ErrBusy: the agreement byte stayed locked for longer than the wait allowed.
	ErrBusy = errors.New("sidecar agreement lock is busy")
	// ErrSlotsFull: every participant slot is owned by a live connection.
	ErrSlotsFull = errors.New("every participant slot is taken")
	// ErrNotRegular: a FIFO, a device, a socket or a directory stands where
	// the sidecar should be. It is opened without blocking and refused.
	ErrNotRegular = errors.New("sidecar is not a regular file")
)

// A Sidecar is one connection's open of a database's sidecar file.
// Every lock it takes belongs to this open: closing it, or the death of
// the process, releases them all. It is not safe for concurrent use.
type Sidecar struct {
	f        *os.File
	db       *os.File // the database, where the lock bytes are mirrored (mirror.go); nil without one
	path     string
	info     os.FileInfo     // the sidecar this open holds, as fstat(2) showed it at open
	slot     int             // owned slot index, or -1
	protocol policy.Protocol // protocol byte held shared, or 0
	families uint8           // family bytes held shared, a bit per family (familyBit)
	data     *[DataSize]byte // the data area as ReadRecordAndSlots read it, until UnlockAgreement
	dataLen  int
	hook     func(op, path string) error
}

// OpenOptions tune OpenSidecar.
type OpenOptions struct {
	// Perm is the permission of a newly created sidecar. Zero means the
	// database file's (0644 where it cannot be read): a sidecar must be as
	// open as its database, or other users of the database lock out.
	Perm fs.FileMode
	// Hook, if set, runs before every I/O on the sidecar; an error it returns
	// is returned as if the operation had failed (fault injection).
	Hook func(op, path string) error
	// NoMirror leaves the database's mirror bytes alone (see mirror.go):
	// for a connection whose SQLite locks the whole database file, which
	// a network filesystem's flock emulation does, and which would cover
	// them.
	NoMirror bool
}

// OpenSidecar opens, creating it if needed, the sidecar of the database at
// dbPath. It refuses a symbolic link in the sidecar's place.
//
// An existing sidecar (the common case) costs one open: it is opened
// read-write first, and created (O_CREAT|O_EXCL) only when it is not there.
func OpenSidecar(dbPath string, opts OpenOptions) (*Sidecar, error) {
	s := &Sidecar{path: SidecarPath(dbPath), slot: -1, hook: opts.Hook}
	if err := s.fault("open"); err != nil {
		return nil, err
	}
	if oNoFollow == 0 {
		// No O_NOFOLLOW here: look before opening.
		if fi, err := os.Lstat(s.path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s: %w", s.path, ErrSymlink)
		}
	}
	f, fi, err := openRegularInfo(s.path, os.O_RDWR)
	for attempt := 0; errors.Is(err, fs.ErrNotExist) && attempt < 3; attempt++ {
		f, err = createSidecar(s.path, dbPath, opts.Perm)
		if errors.Is(err, fs.ErrExist) {
			// Another participant created it first: open theirs.
			f, fi, err = openRegularInfo(s.path, os.O_RDWR)
		} else if err == nil {
			if fi, err = f.Stat(); err != nil {
				f.Close()
			}
		}
	}
	if err != nil {
		if isSymlinkLoop(err) {
			return nil, fmt.Errorf("%s: %w", s.path, ErrSymlink)
		}
		return nil, err
	}
	s.f, s.info = f, fi
	if opts.NoMirror {
		return s, nil
	}
	if err := s.openMirror(dbPath); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// createSidecar creates a new sidecar, failing with fs.ErrExist if one is
// there, with permission perm, or the database file's when perm is zero.
func createSidecar(path, dbPath string, perm fs.FileMode) (*os.File, error) {
	perm = perm.Perm()
	if perm == 0 {
		perm = 0o644
		if fi, err := os.Stat(dbPath); err == nil {
			perm = fi.Mode().Perm()
		}
	}
	// O_NONBLOCK: opening a FIFO must not wait for a writer.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|oNoFollow|oNonBlock, perm)
	if err != nil {
		return nil, err
	}
	// The umask may have narrowed the mode; the sidecar must be as open as
	// the database, or other users of the database lock out.
	if err := f.Chmod(perm); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		f.Close()
		return nil, err
	}
	preallocate(f)
	return f, nil
}

// Info returns what fstat(2) said of the sidecar this open holds, when it
// was opened: compare it with the path's (os.SameFile) to tell whether the
// path still leads to it.
func (s *Sidecar) Info() os.FileInfo { return s.info }

// Path returns the sidecar's path.
func (s *Sidecar) Path() string { return s.path }

// Close closes the sidecar, which releases every lock this open holds.
func (s *Sidecar) Close() error {
	if s == nil || s.f == nil {
		return nil
	}
	if s.slot >= 0 {
		setOwnedHere(s.path, s.slot, false)
	}
	s.dropData()
	err := s.closeMirror() // first: a mirror byte is never held without its sidecar byte
	err = errors.Join(err, s.f.Close())
	s.f = nil
	s.slot, s.protocol, s.families = -1, 0, 0
	return err
}

func (s *Sidecar) fault(op string) error {
	if s.hook == nil {
		return nil
	}
	return s.hook(op, s.path)
}

// heldErr turns a conflict on a shared declaration into ErrBusy. Nobody
// holds those bytes exclusively except a Windows reader testing them for
// an instant, so the conflict is transient.
func (s *Sidecar) heldErr(err error) error {
	if err == filelock.ErrHeld {
		return fmt.Errorf("%s: %w", s.path, ErrBusy)
	}
	return err
}

// LockAgreement takes the agreement byte exclusively, trying for up to
// wait; it returns ErrBusy if another participant kept it that long.
func (s *Sidecar) LockAgreement(wait time.Duration) error {
	return s.lockWaiting(wait, func() error { return s.tryLock(AgreementByte, true) })
}

// lockWaiting runs try, which takes a lock byte, until it does not find
// the byte held, backing off from 50 µs to 5 ms between tries, for up to
// wait; then ErrBusy.
func (s *Sidecar) lockWaiting(wait time.Duration, try func() error) error {
	if err := s.fault("lock"); err != nil {
		return err
	}
	deadline := time.Now().Add(wait)
	for delay := 50 * time.Microsecond; ; delay = min(2*delay, 5*time.Millisecond) {
		err := try()
		if err != filelock.ErrHeld {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w", s.path, ErrBusy)
		}
		time.Sleep(delay)
	}
}

// UnlockAgreement releases the agreement byte.
func (s *Sidecar) UnlockAgreement() error {
	s.dropData()
	return s.unlock(AgreementByte)
}

// LockAgreementMirror takes the agreement byte's mirror on the database
// alone (the sidecar's byte where there is no mirror), trying for up to
// wait: every participant takes the mirror too when it takes the
// agreement, so this excludes them all, for a step that reads but
// changes nothing on the sidecar (a join in memory of a process's next
// connection: docs/protocol.md, "Connections of one process"). Release it
// with UnlockAgreementMirror.
func (s *Sidecar) LockAgreementMirror(wait time.Duration) error {
	if s.db == nil {
		return s.LockAgreement(wait)
	}
	return s.lockWaiting(wait, func() error { return filelock.TryLock(s.db, MirrorByte(AgreementByte), true) })
}

// UnlockAgreementMirror releases what LockAgreementMirror took.
func (s *Sidecar) UnlockAgreementMirror() error {
	if s.db == nil {
		return s.UnlockAgreement()
	}
	return filelock.Unlock(s.db, MirrorByte(AgreementByte))
}

// ReleaseSlot gives the owned slot back, if any: its entry then describes
// nobody.
func (s *Sidecar) ReleaseSlot() error {
	if s.slot < 0 {
		return nil
	}
	if err := s.unlock(SlotByte(s.slot)); err != nil {
		return err
	}
	setOwnedHere(s.path, s.slot, false)
	s.slot = -1
	return nil
}

// ReadRecord reads and verifies the record. A sidecar with no record yet
// gives ErrNoRecord.
func (s *Sidecar) ReadRecord() (Record, error) {
	if err := s.fault("read"); err != nil {
		return Record{}, err
	}
	var buf [RecordSize]byte
	n, err := s.f.ReadAt(buf[:], 0)
	if err != nil && err != io.EOF {
		return Record{}, err
	}
	return DecodeRecord(buf[:n])
}

// ReadRecordBytes reads the record's bytes into buf, unverified, and
// returns how many there were (fewer than RecordSize at the end of a short
// file).
func (s *Sidecar) ReadRecordBytes(buf *[RecordSize]byte) (int, error) {
	if err := s.fault("read"); err != nil {
		return 0, err
	}
	n, err := s.f.ReadAt(buf[:], 0)
	if err != nil && err != io.EOF {
		return n, err
	}
	return n, nil
}

// dataAreas holds buffers for reading a sidecar's whole data area (16.5
// KiB): reused, they cost no allocation.
var dataAreas = sync.Pool{New: func() any { return new([DataSize]byte) }}

// ReadRecordAndSlots is ReadRecord that reads the slot table in the same
// call, for a join that will list participants under the same agreement
// (a WAL join's ParticipantsOffHost): the lists use that copy instead of
// reading the table again. The copy is dropped at UnlockAgreement. The
// caller holds the agreement byte, so live participants' entries do not
// change meanwhile.
func (s *Sidecar) ReadRecordAndSlots() (Record, error) {
	if err := s.fault("read"); err != nil {
		return Record{}, err
	}
	s.dropData()
	buf := dataAreas.Get().(*[DataSize]byte)
	n, err := s.f.ReadAt(buf[:], 0)
	if err != nil && err != io.EOF {
		dataAreas.Put(buf)
		return Record{}, err
	}
	s.data, s.dataLen = buf, n
	return DecodeRecord(buf[:min(n, RecordSize)])
}

// dropData gives back the copy ReadRecordAndSlots kept.
func (s *Sidecar) dropData() {
	if s.data != nil {
		dataAreas.Put(s.data)
		s.data, s.dataLen = nil, 0
	}
}

// WriteRecord writes the record and syncs it to stable storage.
// The caller holds the agreement byte.
func (s *Sidecar) WriteRecord(r Record) error {
	if err := s.fault("write"); err != nil {
		return err
	}
	buf := EncodeRecord(r)
	if _, err := s.f.WriteAt(buf[:], 0); err != nil {
		return err
	}
	if err := s.fault("sync"); err != nil {
		return err
	}
	return s.f.Sync()
}

// AcquireSlot takes the first free participant slot. Slots this
// process's other opens own are skipped without a lock attempt.
func (s *Sidecar) AcquireSlot() (int, error) {
	if s.slot >= 0 {
		return s.slot, nil
	}
	if err := s.fault("lock"); err != nil {
		return -1, err
	}
	own := ownedHere(s.path)
	for i := own.firstClearFrom(0); i < MaxSlots; i = own.firstClearFrom(i + 1) {
		switch err := trySlot(s, i); err {
		case nil:
			s.slot = i
			setOwnedHere(s.path, i, true)
			return i, nil
		case filelock.ErrHeld:
			continue
		default:
			return -1, err
		}
	}
	return -1, fmt.Errorf("%s: %w (%d)", s.path, ErrSlotsFull, MaxSlots)
}

// Slot returns the owned slot index, or -1.
func (s *Sidecar) Slot() int { return s.slot }

// WriteSlot writes the owned slot's entry. Entries are a description for
// readers; liveness is the slot's lock, so no sync is needed.
func (s *Sidecar) WriteSlot(entry Slot) error {
	if s.slot < 0 {
		return errors.New("no participant slot owned")
	}
	if err := s.fault("write"); err != nil {
		return err
	}
	buf := EncodeSlot(entry)
	_, err := s.f.WriteAt(buf[:], SlotOffset(s.slot))
	return err
}

// HoldProtocol declares, for as long as this open lives, that its
// connection locks the database with protocol p.
func (s *Sidecar) HoldProtocol(p policy.Protocol) error {
	if s.protocol == p {
		return nil
	}
	if s.protocol != 0 {
		if err := s.unlock(ProtocolByte(s.protocol)); err != nil {
			return err
		}
		s.protocol = 0
	}
	if err := s.tryLock(ProtocolByte(p), false); err != nil {
		return s.heldErr(err)
	}
	s.protocol = p
	return nil
}

// ReleaseProtocol drops the protocol byte this open held, if any.
func (s *Sidecar) ReleaseProtocol() error {
	if s.protocol == 0 {
		return nil
	}
	if err := s.unlock(ProtocolByte(s.protocol)); err != nil {
		return err
	}
	s.protocol = 0
	return nil
}

// HoldFamily declares that this open's connection writes with family f,
// dropping any other family it held.
func (s *Sidecar) HoldFamily(f policy.Family) error {
	if s.families == familyBit(f) {
		return nil
	}
	if err := s.ReleaseFamily(); err != nil {
		return err
	}
	return s.DeclareFamily(f)
}

// ReleaseFamily drops every family this open held.
func (s *Sidecar) ReleaseFamily() error {
	for _, f := range [2]policy.Family{policy.FamilyRollback, policy.FamilyWAL} {
		if err := s.WithdrawFamily(f); err != nil {
			return err
		}
	}
	return nil
}

// DeclareFamily takes family f's byte, keeping any other family this open
// holds: an open that serves several connections of a process (the Go
// shim's) declares each family one of them writes with.
func (s *Sidecar) DeclareFamily(f policy.Family) error {
	if s.families&familyBit(f) != 0 {
		return nil
	}
	if err := s.tryLock(FamilyByte(f), false); err != nil {
		return s.heldErr(err)
	}
	s.families |= familyBit(f)
	return nil
}

// WithdrawFamily drops family f's byte, if this open holds it.
func (s *Sidecar) WithdrawFamily(f policy.Family) error {
	if s.families&familyBit(f) == 0 {
		return nil
	}
	if err := s.unlock(FamilyByte(f)); err != nil {
		return err
	}
	s.families &^= familyBit(f)
	return nil
}

// Family returns the family this open holds: FamilyUnknown if it holds
// none, or both.
func (s *Sidecar) Family() policy.Family {
	switch s.families {
	case familyBit(policy.FamilyRollback):
		return policy.FamilyRollback
	case familyBit(policy.FamilyWAL):
		return policy.FamilyWAL
	}
	return policy.FamilyUnknown
}

func familyBit(f policy.Family) uint8 { return 1 << (f & 7) }

// OthersUseProtocol reports whether another open holds protocol p's byte.
func (s *Sidecar) OthersUseProtocol(p policy.Protocol) (bool, error) {
	return s.test(ProtocolByte(p))
}

// OthersUseFamily reports whether another open holds family f's byte.
func (s *Sidecar) OthersUseFamily(f policy.Family) (bool, error) {
	return s.test(FamilyByte(f))
}

// Participants lists the other live participants: slots whose lock byte
// another open holds, with their entries.
func (s *Sidecar) Participants() ([]Participant, error) {
	return participants(s.f, s.slot)
}

// ParticipantsWhere lists the other live participants whose slot entry
// decodes and satisfies keep. It tests the lock bytes of those slots only:
// one read and no lock test when no entry matches.
func (s *Sidecar) ParticipantsWhere(keep func(Slot) bool) ([]Participant, error) {
	return s.participantsWhere(nil, keep)
}

// ParticipantsOffHost lists the other live participants whose slot entry
// decodes and names a host other than host. Entries naming host (as
// WriteSlot stores it, at most 47 bytes) are passed over on their bytes,
// without decoding them: one host's own participants, however many are
// live, cost a comparison each.
func (s *Sidecar) ParticipantsOffHost(host string) ([]Participant, error) {
	var here [slotOffProgram - slotOffHost]byte
	putText(here[:], host)
	return s.participantsWhere(
		func(entry []byte) bool { return !bytes.Equal(entry[slotOffHost:slotOffProgram], here[:]) },
		func(Slot) bool { return true })
}

// participantsWhere is ParticipantsWhere with a test of an entry's bytes
// first: an entry that fails it, or that cannot be a slot entry (no magic:
// never written), is not decoded.
func (s *Sidecar) participantsWhere(raw func(entry []byte) bool, keep func(Slot) bool) ([]Participant, error) {
	var table []byte
	if s.data != nil {
		table = s.data[SlotTableOffset:max(s.dataLen, SlotTableOffset)]
	} else {
		buf := slotTables.Get().(*[SlotSize * MaxSlots]byte)
		defer slotTables.Put(buf)
		n, err := s.f.ReadAt(buf[:], SlotTableOffset)
		if err != nil && err != io.EOF {
			return nil, err
		}
		table = buf[:n]
	}
	var live []Participant
	for i := range MaxSlots {
		lo := i * SlotSize
		if i == s.slot || lo+SlotSize > len(table) {
			continue
		}
		b := table[lo : lo+SlotSize]
		if string(b[slotOffMagic:slotOffMagic+len(slotMagic)]) != slotMagic || (raw != nil && !raw(b)) {
			continue
		}
		entry, err := DecodeSlot(b)
		if err != nil || !keep(entry) {
			continue
		}
		held, err := filelock.Test(s.f, SlotByte(i))
		if err != nil {
			return nil, err
		}
		if held {
			live = append(live, Participant{Index: i, Slot: entry})
		}
	}
	return live, nil
}

// slotTables holds buffers for reading the slot table (16 KiB), which a
// WAL join reads each time: reused, they cost no allocation.
var slotTables = sync.Pool{New: func() any { return new([SlotSize * MaxSlots]byte) }}

func participants(f *os.File, own int) ([]Participant, error) {
	buf := slotTables.Get().(*[SlotSize * MaxSlots]byte)
	defer slotTables.Put(buf)
	n, err := f.ReadAt(buf[:], SlotTableOffset)
	if err != nil && err != io.EOF {
		return nil, err
	}
	table := buf[:n]
	var live []Participant
	for i := range MaxSlots {
		if i == own {
			continue
		}
		held, err := filelock.Test(f, SlotByte(i))
		if err != nil {
			return nil, err
		}
		if !held {
			continue
		}
		p := Participant{Index: i}
		lo := i * SlotSize
		if lo+SlotSize <= len(table) {
			p.Slot, p.SlotErr = DecodeSlot(table[lo : lo+SlotSize])
		} else {
			p.SlotErr = ErrNoRecord
		}
		live = append(live, p)
	}
	return live, nil
}

func readSnapshot(path string) (Snapshot, error) {
	snap := Snapshot{Path: path}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return snap, nil
	}
	if err != nil {
		return snap, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return snap, fmt.Errorf("%s: %w", path, ErrSymlink)
	}
	f, err := openRegular(path, os.O_RDONLY)
	if err != nil {
		if isSymlinkLoop(err) {
			err = fmt.Errorf("%s: %w", path, ErrSymlink)
		}
		return snap, err
	}
	defer f.Close()
	snap.Exists = true

	var buf [RecordSize]byte
	n, err := f.ReadAt(buf[:], 0)
	if err != nil && err != io.EOF {
		return snap, err
	}
	snap.Record, snap.RecordErr = DecodeRecord(buf[:n])

	if snap.AgreementHeld, err = filelock.Test(f, AgreementByte); err != nil {
		return snap, err
	}
	for p := range policy.Protocol(policy.NumProtocols) {
		if held, err := filelock.Test(f, ProtocolByte(p)); err != nil {
			return snap, err
		} else if held {
			snap.Protocols = append(snap.Protocols, p)
		}
	}
	for _, fam := range []policy.Family{policy.FamilyRollback, policy.FamilyWAL} {
		if held, err := filelock.Test(f, FamilyByte(fam)); err != nil {
			return snap, err
		} else if held {
			snap.Families = append(snap.Families, fam)
		}
	}
	snap.Participants, err = participants(f, -1)
	return snap, err
}
