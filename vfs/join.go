package vfs

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"

	"github.com/walguard/walguard/errclass"
)

// The agreement protocol. Every change of participation happens under the
// sidecar's agreement byte, so a join's check and its declaration are one
// step to every other walguard connection; the declarations themselves are
// shared locks held for as long as they are true, so a process that dies
// withdraws them with its file descriptors.

// refuse records, counts and logs a refusal, and returns it. Refusals
// travel typed from here to toSQLite, where they become SQLite codes.
func (g *VFS) refuse(db *dbState, e *RefusalError) *RefusalError {
	g.stats.refused(e.Reason)
	db.mu.Lock()
	db.lastRefusal = e
	db.mu.Unlock()
	g.log().Warn("walguard refused",
		slog.String("db", e.DB), slog.String("op", e.Op), slog.String("reason", e.Reason.String()),
		slog.String("why", e.Why), slog.String("class", e.WalguardClass().String()),
		slog.Bool("retryable", e.Retryable()), slog.Any("err", e.Err),
		slog.String("agreed", e.Agreed.String()))
	return e
}

// withAgreement runs fn holding the agreement byte, with the record read
// (and created or rebuilt, as the policy says).
func (m *mainFile) withAgreement(op string, fn func(rec *sidecar.Record) error) error {
	m.g.stats.joins.Add(1)
	if err := m.side.LockAgreement(m.g.opts.AgreementWait); err != nil {
		return m.sidecarFault(op, err)
	}
	defer m.side.UnlockAgreement()
	var rec sidecar.Record
	var err error
	if policy.Family(m.db.knownFamily.Load()) == policy.FamilyWAL {
		// A WAL join will list participants: one read for the record
		// and the slot table.
		rec, err = m.side.ReadRecordAndSlots()
	} else {
		rec, err = m.side.ReadRecord()
	}
	if err != nil {
		rec, err = m.repairRecord(op, err)
		if err != nil {
			return err
		}
	}
	return fn(&rec)
}

// sidecarFault reports a failure of the sidecar's own I/O or locks.
func (m *mainFile) sidecarFault(op string, err error) error {
	e := &RefusalError{DB: m.name, Op: op, Reason: policy.ReasonSidecarUnavailable, Err: err,
		Why: "the sidecar lock record could not be used"}
	if errors.Is(err, sidecar.ErrBusy) || errclass.Classify(err) == policy.ClassTransient {
		e.Reason = policy.ReasonTransientFault
		e.Why = "the sidecar's agreement lock or I/O did not answer in time; the agreed mode is unchanged"
	}
	return m.g.refuse(m.db, e)
}

// repairRecord creates a missing record, or rebuilds a torn or garbage one
// from the database header, as the policy says. The agreement byte is held.
func (m *mainFile) repairRecord(op string, cause error) (sidecar.Record, error) {
	rec := sidecar.Record{Family: m.headerFamily(), Protocol: m.proto, Reason: policy.ReasonFirstUse}
	rec.Mode = defaultMode(rec.Family)
	switch recordRepair(cause, m.g.pol) {
	case repairCreate:
		m.noticeReplacedSidecar(&rec)
	case repairRefuse:
		return rec, m.g.refuse(m.db, &RefusalError{DB: m.name, Op: op, Reason: policy.ReasonSidecarCorrupt, Err: cause,
			Why: fmt.Sprintf("the sidecar %s is not a valid record and the policy refuses to rebuild it; inspect it with walguard check", m.side.Path())})
	case repairRefuseNewer:
		// A newer walguard wrote it: never overwrite what we cannot read.
		return rec, m.g.refuse(m.db, &RefusalError{DB: m.name, Op: op, Reason: policy.ReasonSidecarCorrupt, Err: cause,
			Why: "the sidecar was written by a newer walguard; upgrade this program"})
	case repairRebuild:
		rec.Reason = policy.ReasonRebuilt
		rec.Detail = "rebuilt: " + cause.Error()
		m.g.stats.rebuilt.Add(1)
		m.g.log().Warn("walguard rebuilt sidecar record", slog.String("db", m.name),
			slog.String("sidecar", m.side.Path()), slog.Any("cause", cause), slog.String("family", rec.Family.String()))
	default:
		return rec, m.sidecarFault(op, cause)
	}
	if err := m.writeRecord(&rec); err != nil && !m.firstRecordCanWait(policy.FamilyUnknown, &rec, err) {
		return rec, m.sidecarFault(op, err)
	}
	return rec, nil
}

// What a join does with a record that did not decode.
type repairOutcome uint8

const (
	repairFault       repairOutcome = iota // not a decoding error: the sidecar's I/O failed
	repairCreate                           // nothing written yet: a first use (or a replaced sidecar)
	repairRebuild                          // torn or garbage: rebuilt from the header (policy.RecordRebuild)
	repairRefuse                           // torn or garbage, and policy.RecordRefuse
	repairRefuseNewer                      // a newer format: never overwritten, whatever the policy
)

// recordRepair decides what a join does with a record that failed to
// decode with cause.
func recordRepair(cause error, pol policy.Policy) repairOutcome {
	switch {
	case errors.Is(cause, sidecar.ErrNoRecord):
		return repairCreate
	case errors.Is(cause, sidecar.ErrVersion):
		return repairRefuseNewer
	case errors.Is(cause, sidecar.ErrNotSidecar), errors.Is(cause, sidecar.ErrChecksum),
		errors.Is(cause, sidecar.ErrTruncated), errors.Is(cause, sidecar.ErrInvalid):
		if pol.CorruptRecord == policy.RecordRefuse {
			return repairRefuse
		}
		return repairRebuild
	}
	return repairFault
}

// writeRecord stamps the record with this process and a new generation,
// and writes it. The agreement byte is held.
func (m *mainFile) writeRecord(rec *sidecar.Record) error {
	rec.Version = 0 // the lowest version that holds it
	rec.Generation++
	rec.SetterPID = processID
	rec.SetAt = time.Now()
	rec.Host = m.g.opts.HostID
	rec.Program = m.g.opts.Program
	if err := m.side.WriteRecord(*rec); err != nil {
		return err
	}
	m.db.knownFamily.Store(uint32(rec.Family))
	return nil
}

// headerFamily reads the database header's family straight from the file.
func (m *mainFile) headerFamily() policy.Family {
	var hdr [20]byte
	if n, _ := m.File.ReadAt(hdr[:], 0); n == len(hdr) {
		return policy.FamilyOfHeader(hdr[18], hdr[19])
	}
	return policy.FamilyUnknown
}

func defaultMode(f policy.Family) policy.JournalMode {
	switch f {
	case policy.FamilyWAL:
		return policy.ModeWAL
	case policy.FamilyRollback:
		return policy.ModeDelete
	}
	return policy.ModeUnknown
}

// admit joins the participants with this connection's locking protocol.
//
// A connection whose process already holds the protocol byte joins in
// memory (joinInMemory); otherwise, and where that cannot decide, in full.
func (m *mainFile) admit(op string) error {
	if m.side.ProcessJoined() && !m.operator {
		if joined, err := m.joinInMemory(op); err != nil || joined {
			return err
		}
	}
	return m.withAgreement(op, func(rec *sidecar.Record) error {
		hf := m.headerFamily()
		if rec.Family != policy.FamilyUnknown {
			if err := m.reconcileHeader(op, rec, hf); err != nil {
				return err
			}
		} else if hf != policy.FamilyUnknown {
			m.db.knownFamily.Store(uint32(hf))
		}
		if err := m.settleNetworkFS(op, rec, hf); err != nil {
			return err
		}
		others, err := m.side.OthersUseProtocols(m.proto)
		if err != nil {
			return m.sidecarFault(op, err)
		}
		d := m.g.pol.AdmitProtocol(policy.ProtocolRequest{Mine: m.proto, Others: others, Foreign: m.foreignProtocols(op)})
		if !d.Allow {
			return m.g.refuse(m.db, &RefusalError{DB: m.name, Op: op, Reason: d.Reason, Why: d.Why, Agreed: *rec})
		}
		if err := m.side.Join(m.proto); err != nil {
			if errors.Is(err, sidecar.ErrSlotsFull) {
				return m.g.refuse(m.db, &RefusalError{DB: m.name, Op: op, Reason: policy.ReasonSlotsFull, Err: err,
					Why: "every participant slot is taken by a live process; retry when one closes"})
			}
			return m.sidecarFault(op, err)
		}
		m.joinWALEarly(rec, hf)
		if err := m.writeSlot(); err != nil {
			// Not admitted: give back what this join declared, so that
			// its retry joins again in full and writes the entry (a
			// process's slot without an entry is invisible to the tests
			// that go by entries, the other-host test among them).
			m.releaseFamily()
			m.side.Leave()
			return m.sidecarFault(op, err)
		}
		m.admitted = true
		return nil
	})
}

// joinInMemory admits a connection whose process already holds the
// protocol byte (docs/design.md, "Participation per process"): nothing any
// other participant sees changes, so it needs neither the agreement byte
// on the sidecar nor a write. Under the agreement byte's mirror alone
// (which keeps every other join and record change out, and other
// processes' probes of SQLite's lock bytes from meeting this one's), it
// reads the record (a torn one, or none, goes to the full join, which
// repairs or refuses it; a switch intent is noted for the header reads),
// probes SQLite's lock bytes for participants without walguard (they come
// and go without a slot), and counts the connection in. The header's
// family, which a full join reconciles with the record, is checked by
// SQLite's first read of it (ReadAt), against the family this process
// last confirmed. false, nil: join in full.
func (m *mainFile) joinInMemory(op string) (bool, error) {
	lock, unlock := m.side.LockAgreementMirror, m.side.UnlockAgreementMirror
	if !m.db.fs.SharesMemory {
		// Where the filesystem cannot share memory, a flock participant
		// keeps its declarations on the sidecar alone (NoMirror): the
		// mirror's byte would not keep it out.
		lock, unlock = m.side.LockAgreement, m.side.UnlockAgreement
	}
	if err := lock(m.g.opts.AgreementWait); err != nil {
		return false, m.sidecarFault(op, err)
	}
	defer unlock()
	pending, ok, err := m.side.RecordPending()
	if err != nil || !ok {
		return false, nil
	}
	m.db.switchPending.Store(pending)
	d := m.g.pol.AdmitProtocol(policy.ProtocolRequest{Mine: m.proto, Foreign: m.foreignProtocols(op)})
	if !d.Allow {
		rec, _ := m.side.ReadRecord()
		return false, m.g.refuse(m.db, &RefusalError{DB: m.name, Op: op, Reason: d.Reason, Why: d.Why, Agreed: rec})
	}
	if !m.side.JoinSibling() {
		return false, nil // the process's last admitted connection closed meanwhile
	}
	m.admitted = true
	if policy.Family(m.db.knownFamily.Load()) == policy.FamilyWAL && m.shm != nil {
		// As joinWALEarly: SQLite's first read will open the -wal (the
		// operator's connection never joins in memory).
		if ok, err := m.side.JoinFamilySibling(policy.FamilyWAL); err == nil && ok {
			m.family, m.early = policy.FamilyWAL, true
		}
	}
	return true, nil
}

// joinWALEarly declares the WAL family in the protocol join, when the
// header says WAL and the policy admits it: SQLite follows the header, so
// the connection's first read opens the -wal, and that join would take the
// agreement byte, read the record and the header and write the slot entry
// all over again. Where the policy refuses, nothing is declared and the
// -wal open joins (and refuses) as before. The agreement byte is held.
func (m *mainFile) joinWALEarly(rec *sidecar.Record, hf policy.Family) {
	if hf != policy.FamilyWAL || m.family != policy.FamilyUnknown || m.shm == nil || m.operator {
		return
	}
	req, err := m.familyFacts(policy.FamilyWAL, rec, hf)
	if err != nil || !m.g.pol.AdmitFamily(req).Allow {
		return
	}
	if m.side.HoldFamily(policy.FamilyWAL) == nil {
		m.family, m.early = policy.FamilyWAL, true
	}
}

func (m *mainFile) writeSlot() error {
	return m.slotWritten(m.side.WriteSlot(sidecar.Slot{
		PID: processID, Protocol: m.proto, Family: m.family, Mode: m.pendingMode,
		Since: time.Now(), Host: m.g.opts.HostID, Program: m.g.opts.Program,
	}))
}

// joinFamily admits this connection to write with family want. It is
// called on every gate, so the admitted case costs one comparison.
func (m *mainFile) joinFamily(op string, want policy.Family) error {
	if m.family == want {
		return nil
	}
	if !m.admitted {
		if err := m.admit(op); err != nil {
			return err
		}
	}
	if m.family == policy.FamilyUnknown && !m.operator && !m.needsGate(want) {
		// The process writes with want already: declare it in memory.
		if ok, err := m.side.JoinFamilySibling(want); err != nil {
			return m.sidecarFault(op, err)
		} else if ok {
			m.family, m.early = want, false
			return nil
		}
	}
	return m.withAgreement(op, func(rec *sidecar.Record) error {
		if err := m.gateUnseenLeave(op, want, rec); err != nil {
			return err
		}
		// Drop our own declaration first: two connections converging on
		// the same family must not block each other.
		if err := m.side.ReleaseFamily(); err != nil {
			return m.sidecarFault(op, err)
		}
		m.family = policy.FamilyUnknown
		m.early = false
		var hf policy.Family
		if want == policy.FamilyWAL {
			hf = m.headerFamily()
		}
		req, err := m.familyFacts(want, rec, hf)
		if err != nil {
			return m.sidecarFault(op, err)
		}
		if d := m.g.pol.AdmitFamily(req); !d.Allow {
			return m.g.refuse(m.db, &RefusalError{DB: m.name, Op: op, Reason: d.Reason, Why: d.Why, Agreed: *rec})
		}
		if err := m.side.HoldFamily(want); err != nil {
			return m.sidecarFault(op, err)
		}
		m.family = want
		m.early = false
		if err := m.writeSlot(); err != nil {
			return m.sidecarFault(op, err)
		}
		return nil
	})
}

// needsGate reports whether a join to family want must go through
// gateUnseenLeave: a rollback join while this process last saw the header
// say WAL.
func (m *mainFile) needsGate(want policy.Family) bool {
	return want == policy.FamilyRollback && policy.Family(m.db.knownFamily.Load()) == policy.FamilyWAL
}

// gateUnseenLeave decides, at a rollback join under a WAL header, a leave
// of WAL that no pragma of this file approved (journal_mode="", which the
// pragma gate cannot tell from a query, or an attached database changed by
// an unqualified pragma): SQLite writes the new header through a rollback
// journal, so the header-write gate would come after the journal's first
// bytes (invariant 4). A hot journal's playback is not a decision. It costs
// nothing unless this process last saw the header say WAL. The agreement
// byte is held.
func (m *mainFile) gateUnseenLeave(op string, want policy.Family, rec *sidecar.Record) error {
	if want != policy.FamilyRollback || m.playback || m.approvedSwitch(policy.FamilyWAL, policy.FamilyRollback) ||
		policy.Family(m.db.knownFamily.Load()) != policy.FamilyWAL {
		return nil
	}
	hf := m.headerFamily()
	if hf != policy.FamilyWAL {
		return nil
	}
	refusal, err := m.decideSwitch(op, policy.FamilyRollback, rec, hf)
	if err != nil {
		return m.sidecarFault(op, err)
	}
	if refusal != nil {
		return m.g.refuse(m.db, refusal)
	}
	return nil
}

// releaseFamily withdraws this connection's family declaration.
// Releasing only ever widens what others may do, so it needs no agreement.
func (m *mainFile) releaseFamily() {
	if err := m.side.ReleaseFamily(); err == nil {
		m.family = policy.FamilyUnknown
		m.early = false
	}
}

// familyFacts gathers what the policy needs to admit family want; hf is
// the header's family on disk. The agreement byte is held.
func (m *mainFile) familyFacts(want policy.Family, rec *sidecar.Record, hf policy.Family) (policy.FamilyRequest, error) {
	req := policy.FamilyRequest{Want: want, Agreed: rec.Family, AgreedReason: rec.Reason, SharesMemory: m.db.fs.SharesMemory,
		HeaderSaysWAL: hf == policy.FamilyWAL}
	if err := m.otherFamilyFacts(&req); err != nil {
		return req, err
	}
	if want == policy.FamilyWAL {
		// Entries are written under the agreement byte, which is held: a
		// live participant's entry is complete, so only slots naming
		// another host need a lock test.
		live, err := m.side.ParticipantsOffHost(m.g.opts.HostID)
		if err != nil {
			return req, err
		}
		for _, p := range live {
			req.OtherHostsLive = append(req.OtherHostsLive, p.Slot.Host)
		}
		if m.shm != nil && !m.g.pol.AllowHardLinks {
			if req.WALUnderAnotherName, err = m.side.WALUnderAnotherName(m.name); err != nil {
				return req, err
			}
		}
	}
	return req, nil
}

// otherFamilyFacts sets req.OthersInOther, and req.ReservedHeld for a WAL
// join under a WAL header. Rollback declarations do not keep WAL out while
// the header says WAL (policy.AdmitFamily) unless their connection is in a
// transaction, holding SQLite's RESERVED lock: the header changed under it,
// by a process whose locks walguard's do not see. So a WAL join under a WAL
// header tests RESERVED (one lock test, at joins only), and the
// declarations only when it is held.
func (m *mainFile) otherFamilyFacts(req *policy.FamilyRequest) error {
	var err error
	if req.Want == policy.FamilyWAL && req.HeaderSaysWAL {
		if req.ReservedHeld, err = m.File.CheckReservedLock(); err != nil || !req.ReservedHeld {
			return err
		}
	}
	req.OthersInOther, err = m.side.OthersUseFamily(req.Want.Other())
	return err
}

// observeHeader handles a header whose family differs from the one this
// process last confirmed: another walguard connection changed it (the
// record says so), a switch is under way or was interrupted, or a process
// without walguard changed it.
func (m *mainFile) observeHeader(f policy.Family) error {
	return m.withAgreement("read header", func(rec *sidecar.Record) error {
		return m.reconcileHeader("read header", rec, f)
	})
}

// foreignFlip handles a header family that disagrees with the record.
// The agreement byte is held.
func (m *mainFile) foreignFlip(op string, rec *sidecar.Record, header policy.Family) error {
	m.g.stats.foreignFlips.Add(1)
	was := rec.Family
	m.g.log().Warn("walguard noticed a journal mode change made without walguard",
		slog.String("db", m.name), slog.String("recorded", was.String()), slog.String("header", header.String()),
		slog.String("recorded_by", rec.Program), slog.Uint64("recorded_pid", uint64(rec.SetterPID)))
	if m.g.pol.ForeignFlip == policy.FlipRefuse {
		return m.g.refuse(m.db, &RefusalError{DB: m.name, Op: op, Reason: policy.ReasonForeignFlipRefused, Agreed: *rec,
			Why: fmt.Sprintf("the header says %s but walguard agreed on %s; a process without walguard changed it", header, was)})
	}
	rec.Family, rec.Mode, rec.Reason = header, defaultMode(header), policy.ReasonForeignFlip
	rec.Detail = fmt.Sprintf("header changed from %s to %s without walguard", was, header)
	if err := m.writeRecord(rec); err != nil {
		return m.sidecarFault(op, err)
	}
	return nil
}

// settleRollback lets a deterministic incompatibility settle the agreed
// family on rollback, if the policy allows: never while the header says
// WAL or a live participant uses WAL.
//
// evidence says how the error was found to last (the settle rule); an
// empty evidence means it was not tested, and the policy does not settle.
func (m *mainFile) settleRollback(op string, cause error, evidence string) {
	// The cause is returned to SQLite whatever happens here; a failure to
	// settle is logged, and the next connection meets the cause again.
	err := m.withAgreement(op, func(rec *sidecar.Record) error {
		walLive, err := m.side.OthersUseFamily(policy.FamilyWAL)
		if err != nil {
			return err
		}
		d := m.g.pol.Settle(policy.SettleRequest{
			Class:         errclass.Classify(cause),
			Lasting:       evidence != "",
			HeaderSaysWAL: m.headerFamily() == policy.FamilyWAL || rec.Family == policy.FamilyWAL,
			WALLive:       walLive || m.family == policy.FamilyWAL,
		})
		if d.Allow && rec.Family == policy.FamilyRollback && rec.Reason == policy.ReasonIncompatible {
			m.db.settled.Store(true)
			return nil // settled already
		}
		if !d.Allow {
			m.g.log().Warn("walguard kept the agreed mode despite an incompatibility",
				slog.String("db", m.name), slog.String("op", op), slog.Any("err", cause), slog.String("why", d.Why))
			return nil
		}
		rec.Family, rec.Mode, rec.Reason = policy.FamilyRollback, policy.ModeDelete, policy.ReasonIncompatible
		rec.Detail = fmt.Sprintf("%s: %v; %s", op, cause, evidence)
		if err := m.writeRecord(rec); err != nil {
			return err
		}
		m.g.stats.settled.Add(1)
		m.db.settled.Store(true)
		m.g.log().Warn("walguard settled the rollback journal", slog.String("db", m.name),
			slog.String("op", op), slog.Any("err", cause))
		return nil
	})
	if err != nil {
		m.g.log().Warn("walguard could not settle the rollback journal", slog.String("db", m.name),
			slog.String("op", op), slog.Any("cause", cause), slog.Any("err", err))
	}
}

// settleNetworkFS agrees on the rollback family, once, for a database on a
// filesystem that cannot share memory, unless it is already in WAL (then
// WAL participants are refused instead). The agreement byte is held.
func (m *mainFile) settleNetworkFS(op string, rec *sidecar.Record, header policy.Family) error {
	if m.db.fs.SharesMemory || m.g.pol.NetworkFS != policy.NetworkFSRollback ||
		rec.Reason == policy.ReasonNetworkFS || rec.Family == policy.FamilyWAL || header == policy.FamilyWAL {
		return nil
	}
	rec.Family, rec.Mode, rec.Reason = policy.FamilyRollback, policy.ModeDelete, policy.ReasonNetworkFS
	rec.Detail = fmt.Sprintf("filesystem %s cannot share memory between processes", m.db.fs.Type)
	if err := m.writeRecord(rec); err != nil {
		return m.sidecarFault(op, err)
	}
	m.g.stats.settled.Add(1)
	m.g.log().Info("walguard settled the rollback journal", slog.String("db", m.name), slog.String("why", rec.Detail))
	return nil
}
