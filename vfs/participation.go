package vfs

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/walguard/walguard/internal/nlink"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// A process takes part in a database once: the connections of one process
// to one database (one name, one locking protocol) share one open of the
// sidecar and of the database's mirror bytes, one participant slot, and
// the protocol and family declarations, each held for as long as one of
// them needs it (docs/protocol.md, "Connections of one process"). Locks belong to an
// open file description, so a declaration is counted here, per
// connection, and the byte is taken at the first and released at the
// last; lock tests (F_OFD_GETLK) do not see the process's own
// description, so every test of "another participant" adds what the
// process's other connections declare. Declarations stay per connection;
// only their locks are shared.
//
// A connection whose process already participates joins in memory
// (mainFile.admit): its process holds the protocol byte, so nothing any
// other participant sees changes. It checks only that the names still lead
// to the files the participation holds: the database (the fstat of the
// new connection's descriptor that the hard-link test makes anyway) and
// the sidecar (one lstat). A database
// renamed over, or a sidecar removed or replaced, starts a participation
// of its own, which joins in full like a new process.
//
// Windows keeps one participation per connection: a lock test there takes
// the lock, which a handle's own lock refuses, so a shared handle would
// see its own declarations as another's.

// shareParticipation: whether connections of one process share their
// participation (not on Windows, above).
const shareParticipation = runtime.GOOS != "windows"

// participation is one process's participation in one database through
// one name with one protocol.
type participation struct {
	side *sidecar.Sidecar
	dbID nlink.ID // the database its first connection opened (statOpened)
	scID nlink.ID // the sidecar the descriptor holds

	// The record as the last join in memory read it, and whether it held a
	// switch intent: a record whose bytes did not change is not decoded
	// again. Used under the process's turn at the agreement (agree).
	rec        [sidecar.RecordSize]byte
	recN       int
	recPending bool

	// agree is the process's turn at the agreement byte: the byte is one
	// lock of the shared description, which a second goroutine of the
	// process would "take" again and the first one's unlock would drop.
	agree chan struct{}

	db  *dbState // where it is registered, for the process's next connections; nil if not
	key partKey

	mu        sync.Mutex
	conns     int                       // +checklocks:mu; connections using it
	protocol  int                       // +checklocks:mu; connections admitted with the protocol byte
	families  [policy.FamilyWAL + 1]int // +checklocks:mu; connections declaring each family
	switching int                       // +checklocks:mu; connections with a switch intent recorded
	since     time.Time                 // +checklocks:mu; when its slot entry was first written
	entry     sidecar.Slot              // +checklocks:mu; the slot entry last written
	written   bool                      // +checklocks:mu; entry was written
	closed    bool                      // +checklocks:mu; the last connection left: never reused
}

// partKey tells a database's participations apart in one process.
type partKey struct {
	proto    policy.Protocol
	noMirror bool
}

// joinParticipation returns a handle for a new connection on the
// participation its process has in the database at path (db), opening
// one if there is none or if the names no longer lead to its files. id is
// the database file the connection opened (statOpened), the zero ID if
// unknown.
func (g *VFS) joinParticipation(db *dbState, path string, id nlink.ID, key partKey) (*connSide, error) {
	if shareParticipation && id != (nlink.ID{}) {
		db.mu.Lock()
		p := db.parts[key]
		db.mu.Unlock()
		if p != nil && p.stillAt(id) && p.attach() {
			return &connSide{p: p}, nil
		}
	}
	opts := sidecar.OpenOptions{Hook: g.opts.SidecarHook, NoMirror: key.noMirror}
	side, err := retried(g, func() (*sidecar.Sidecar, error) { return sidecar.OpenSidecar(path, opts) })
	if err != nil {
		return nil, err
	}
	p := &participation{side: side, dbID: id, agree: make(chan struct{}, 1), conns: 1, recN: -1}
	if shareParticipation && id != (nlink.ID{}) && side.Info() != nil {
		// The sidecar this descriptor holds, as a later open will compare
		// it with its path.
		if sc, ok := nlink.Of(side.Info()); ok {
			p.scID, p.db, p.key = sc, db, key
			db.mu.Lock()
			if db.parts == nil {
				db.parts = map[partKey]*participation{}
			}
			db.parts[key] = p
			db.mu.Unlock()
		}
	}
	return &connSide{p: p}, nil
}

// stillAt reports whether the database at its path (id) and the sidecar
// at its path are the files p holds.
func (p *participation) stillAt(id nlink.ID) bool {
	if p.dbID != id || p.scID == (nlink.ID{}) {
		return false
	}
	sc, ok, err := nlink.Lstat(p.side.Path())
	return err == nil && ok && sc == p.scID
}

// attach counts one more connection, unless the last one left already.
func (p *participation) attach() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns++
	return true
}

// connSide is one connection's use of its process's participation: what
// the connection itself declared, and the sidecar calls it makes, which
// count its siblings (the process's other connections) where a lock test
// cannot see them.
type connSide struct {
	p        *participation
	protocol bool          // this connection counts in p.protocol
	family   policy.Family // the family this connection declared
	closed   bool
}

// Path returns the sidecar's path.
func (c *connSide) Path() string { return c.p.side.Path() }

// ProcessJoined reports whether this connection's process holds the
// protocol byte: a join can be made in memory (JoinSibling).
func (c *connSide) ProcessJoined() bool {
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	return c.protocol || p.protocol > 0
}

// JoinSibling admits the connection in memory if its process already
// holds the protocol byte; false means a full join is needed.
func (c *connSide) JoinSibling() bool {
	if c.protocol {
		return true
	}
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.protocol == 0 {
		return false
	}
	p.protocol++
	c.protocol = true
	return true
}

// JoinFamilySibling declares family f in memory if its process already
// holds f's byte and no participant holds the other family's: false means
// a full join is needed. The process's declaration has been held since a
// full join admitted it, under the agreement byte, so every participant
// that came since was admitted beside it (docs/design.md, "Participation
// per process"); the other family is tested again, because a WAL header
// admits WAL beside idle rollback declarations.
func (c *connSide) JoinFamilySibling(f policy.Family) (bool, error) {
	p := c.p
	p.mu.Lock()
	ok := c.family == policy.FamilyUnknown && p.families[f] > 0 && p.families[f.Other()] == 0
	p.mu.Unlock()
	if !ok {
		return false, nil
	}
	if held, err := p.side.OthersUseFamily(f.Other()); err != nil || held {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.families[f] == 0 || p.families[f.Other()] != 0 {
		return false, nil // a sibling left or changed meanwhile
	}
	p.families[f]++
	c.family = f
	return true, nil
}

// LockAgreement takes the agreement byte exclusively, waiting up to wait
// for the process's other connections and then for other processes.
func (c *connSide) LockAgreement(wait time.Duration) error {
	return c.lockInTurn(wait, c.p.side.LockAgreement)
}

// UnlockAgreement releases the agreement byte.
func (c *connSide) UnlockAgreement() error { return c.unlockTurn(c.p.side.UnlockAgreement) }

// LockAgreementMirror takes the agreement byte's mirror alone, for a join
// in memory: it excludes every other participant's join and record
// change (every participant with a mirror takes it too) for a step that
// reads the record and probes SQLite's lock bytes but changes nothing on
// the sidecar.
func (c *connSide) LockAgreementMirror(wait time.Duration) error {
	return c.lockInTurn(wait, c.p.side.LockAgreementMirror)
}

// UnlockAgreementMirror releases what LockAgreementMirror took.
func (c *connSide) UnlockAgreementMirror() error {
	return c.unlockTurn(c.p.side.UnlockAgreementMirror)
}

// lockInTurn waits for the process's turn, then runs lock with what is
// left of wait; the turn is given back if lock fails.
func (c *connSide) lockInTurn(wait time.Duration, lock func(time.Duration) error) error {
	deadline := time.Now().Add(wait)
	if err := c.turn(wait); err != nil {
		return err
	}
	if err := lock(max(time.Until(deadline), 0)); err != nil {
		<-c.p.agree
		return err
	}
	return nil
}

// unlockTurn runs unlock and gives the process's turn back.
func (c *connSide) unlockTurn(unlock func() error) error {
	err := unlock()
	<-c.p.agree
	return err
}

// turn waits up to wait for the process's turn at the agreement byte.
func (c *connSide) turn(wait time.Duration) error {
	select {
	case c.p.agree <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case c.p.agree <- struct{}{}:
		return nil
	case <-t.C:
		return fmt.Errorf("%s: %w (held by another connection of this process)", c.Path(), sidecar.ErrBusy)
	}
}

// The record and the slot table are read and written under the agreement
// byte, which gives this connection the shared descriptor's data area.

// ReadRecord reads and verifies the record.
func (c *connSide) ReadRecord() (sidecar.Record, error) { return c.p.side.ReadRecord() }

// RecordPending reads the record and reports whether it holds a switch
// intent; ok is false if it does not verify (or there is none). A record
// whose bytes did not change since the last call is not decoded again.
// The process's turn at the agreement is held.
func (c *connSide) RecordPending() (pending, ok bool, err error) {
	p := c.p
	var buf [sidecar.RecordSize]byte
	n, err := p.side.ReadRecordBytes(&buf)
	if err != nil {
		return false, false, err
	}
	if n == p.recN && buf == p.rec {
		return p.recPending, true, nil
	}
	rec, err := sidecar.DecodeRecord(buf[:n])
	if err != nil {
		p.recN = -1
		return false, false, nil
	}
	p.rec, p.recN, p.recPending = buf, n, rec.Switch.Pending
	return rec.Switch.Pending, true, nil
}

// ReadRecordAndSlots reads the record and keeps the slot table until
// UnlockAgreement.
func (c *connSide) ReadRecordAndSlots() (sidecar.Record, error) { return c.p.side.ReadRecordAndSlots() }

// WriteRecord writes and syncs the record.
func (c *connSide) WriteRecord(r sidecar.Record) error { return c.p.side.WriteRecord(r) }

// Slot returns the process's slot, or -1.
func (c *connSide) Slot() int {
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.side.Slot()
}

// WriteSlot writes the process's slot entry from entry, this connection's
// view: the family is the one the process's connections declare (entry's
// where they declare both or none), since is when the process joined. An
// entry that would not change is not written. The agreement byte is held.
func (c *connSide) WriteSlot(entry sidecar.Slot) error {
	p := c.p
	p.mu.Lock()
	if p.since.IsZero() {
		p.since = entry.Since
	}
	entry.Since = p.since
	switch {
	case p.families[policy.FamilyWAL] > 0 && p.families[policy.FamilyRollback] == 0:
		entry.Family = policy.FamilyWAL
	case p.families[policy.FamilyRollback] > 0 && p.families[policy.FamilyWAL] == 0:
		entry.Family = policy.FamilyRollback
	}
	same := p.written && p.entry == entry
	p.mu.Unlock()
	if same {
		return nil
	}
	if err := p.side.WriteSlot(entry); err != nil {
		return err
	}
	p.mu.Lock()
	p.entry, p.written = entry, true
	p.mu.Unlock()
	return nil
}

// Join declares this connection's protocol: the process's first
// connection takes a slot and the protocol byte, which stay while one of
// its connections is admitted. A full slot table is sidecar.ErrSlotsFull.
func (c *connSide) Join(proto policy.Protocol) error {
	if c.protocol {
		return nil
	}
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.protocol == 0 {
		if _, err := p.side.AcquireSlot(); err != nil {
			return err
		}
		if err := p.side.HoldProtocol(proto); err != nil {
			return err
		}
	}
	p.protocol++
	c.protocol = true
	return nil
}

// HoldFamily declares that this connection writes with family f, dropping
// the family it declared before.
func (c *connSide) HoldFamily(f policy.Family) error {
	if c.family == f {
		return nil
	}
	if err := c.ReleaseFamily(); err != nil {
		return err
	}
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.families[f] == 0 {
		if err := p.side.DeclareFamily(f); err != nil {
			return err
		}
	}
	p.families[f]++
	c.family = f
	return nil
}

// ReleaseFamily withdraws this connection's family declaration; the byte
// goes when the process's last declaration of it does.
func (c *connSide) ReleaseFamily() error {
	f := c.family
	if f == policy.FamilyUnknown {
		return nil
	}
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.families[f] == 1 {
		if err := p.side.WithdrawFamily(f); err != nil {
			return err
		}
	}
	p.families[f]--
	c.family = policy.FamilyUnknown
	return nil
}

// Family returns the family this connection declared.
func (c *connSide) Family() policy.Family { return c.family }

// siblingFamily reports whether another connection of this process
// declares family f.
func (c *connSide) siblingFamily(f policy.Family) bool {
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.families[f]
	if c.family == f {
		n--
	}
	return n > 0
}

// OthersUseProtocols returns the protocols other than mine held by other
// participants; the process's other connections share this one's.
func (c *connSide) OthersUseProtocols(mine policy.Protocol) ([]policy.Protocol, error) {
	return c.p.side.OthersUseProtocols(mine)
}

// OthersUseFamily reports whether another participant, or another
// connection of this process, declares family f.
func (c *connSide) OthersUseFamily(f policy.Family) (bool, error) {
	if c.siblingFamily(f) {
		return true, nil
	}
	return c.p.side.OthersUseFamily(f)
}

// Participants lists the other live participants, with this process's
// slot when its other connections are live.
func (c *connSide) Participants() ([]sidecar.Participant, error) {
	live, err := c.p.side.Participants()
	if err != nil {
		return nil, err
	}
	return c.withSiblings(live, func(sidecar.Slot) bool { return true }), nil
}

// ParticipantsWhere lists the other live participants whose entry keep
// accepts, with this process's slot when one of its other connections,
// described by the family it declares, is accepted.
func (c *connSide) ParticipantsWhere(keep func(sidecar.Slot) bool) ([]sidecar.Participant, error) {
	live, err := c.p.side.ParticipantsWhere(keep)
	if err != nil {
		return nil, err
	}
	return c.withSiblings(live, keep), nil
}

// ParticipantsOffHost lists the other live participants of other hosts:
// the process's other connections are on this one.
func (c *connSide) ParticipantsOffHost(host string) ([]sidecar.Participant, error) {
	return c.p.side.ParticipantsOffHost(host)
}

// withSiblings adds to live this process's slot, described as each of its
// other connections would be, if keep accepts one of them.
func (c *connSide) withSiblings(live []sidecar.Participant, keep func(sidecar.Slot) bool) []sidecar.Participant {
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	slot := p.side.Slot()
	if p.conns <= 1 || slot < 0 {
		return live
	}
	entry := p.entry
	counts := p.families
	if c.family != policy.FamilyUnknown {
		counts[c.family]--
	}
	undeclared := p.conns - 1 - counts[policy.FamilyRollback] - counts[policy.FamilyWAL]
	for _, f := range []policy.Family{policy.FamilyRollback, policy.FamilyWAL, policy.FamilyUnknown} {
		n := undeclared
		if f != policy.FamilyUnknown {
			n = counts[f]
		}
		entry.Family = f
		if n > 0 && keep(entry) {
			return append(live, sidecar.Participant{Index: slot, Slot: entry})
		}
	}
	return live
}

// LiveElsewhere reports whether a participant of another sidecar is live.
func (c *connSide) LiveElsewhere() (bool, error) { return c.p.side.LiveElsewhere() }

// ProbeDatabaseLocks tests SQLite's own lock bytes on the database.
func (c *connSide) ProbeDatabaseLocks(fcntl, flock bool) (sidecar.DatabaseLocks, error) {
	return c.p.side.ProbeDatabaseLocks(fcntl, flock)
}

// WALUnderAnotherName reports whether a WAL participant reached the
// database through another name.
func (c *connSide) WALUnderAnotherName(dbPath string) (bool, error) {
	return c.p.side.WALUnderAnotherName(dbPath)
}

// SetSwitching counts this connection's recorded switch intent.
func (c *connSide) SetSwitching(on bool) {
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.switching++
	} else if p.switching > 0 {
		p.switching--
	}
}

// SwitchingHere reports whether a connection of this process has a switch
// intent recorded.
func (c *connSide) SwitchingHere() bool {
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.switching > 0
}

// Leave withdraws this connection's protocol declaration (Join's), as a
// join that failed after it must: the process's slot and protocol byte go
// with its last admitted connection, even while connections that were
// never admitted stay (they declare nothing, and a slot would describe a
// participant that is not there). The next full join takes both again.
func (c *connSide) Leave() error {
	if !c.protocol {
		return nil
	}
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	return c.leaveLocked()
}

// leaveLocked is Leave with p.mu held.
func (c *connSide) leaveLocked() error {
	p := c.p
	p.protocol--
	c.protocol = false
	if p.protocol > 0 || p.conns <= 1 {
		return nil // the last connection's close releases everything
	}
	p.written, p.since = false, time.Time{}
	return errors.Join(p.side.ReleaseProtocol(), p.side.ReleaseSlot())
}

// Close withdraws this connection's declarations; the last connection
// closes the sidecar, which releases the process's locks.
func (c *connSide) Close() error {
	if c == nil || c.closed {
		return nil
	}
	c.closed = true
	err := c.ReleaseFamily()
	p := c.p
	p.mu.Lock()
	if c.protocol {
		err = errors.Join(err, c.leaveLocked())
	}
	p.conns--
	last := p.conns == 0
	if last {
		p.closed = true
	}
	p.mu.Unlock()
	if !last {
		return err
	}
	if p.db != nil {
		p.db.mu.Lock()
		if p.db.parts[p.key] == p {
			delete(p.db.parts, p.key)
		}
		p.db.mu.Unlock()
	}
	return errors.Join(err, p.side.Close())
}
