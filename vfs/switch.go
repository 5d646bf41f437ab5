package vfs

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// Journal family switches. A change of the header's family is decided once
// (decideSwitch), whether it comes from a PRAGMA journal_mode this file saw
// or only shows up as a header write (an attached database changed by an
// unqualified pragma, an empty value). Before the header write reaches the
// file, the record names the new family with a switch intent; the switcher
// clears the intent when its transaction ends (endSwitch). An intent whose
// switcher died is an interrupted switch, never a foreign flip: the header
// may show either family until SQLite completes the switch or rolls its
// hot journal back, and the first header read under a lock after that
// resolves it (resolveInterrupted).

// decideSwitch decides whether this connection may move the database to
// family to: leaving WAL only deliberately, never while another uses the
// family it leaves, a deliberate change only alone. hf is the header's
// family on disk. The agreement byte is held. A refusal names the live
// participants in the way.
func (m *mainFile) decideSwitch(op string, to policy.Family, rec *sidecar.Record, hf policy.Family) (*RefusalError, error) {
	// Our own declaration must not count as another's: OFD tests ignore
	// it, but a Windows test would see it. Restore it after deciding.
	if held := m.side.Family(); held != policy.FamilyUnknown {
		if err := m.side.ReleaseFamily(); err != nil {
			return nil, err
		}
		defer func() {
			if m.side.HoldFamily(held) != nil {
				m.family = policy.FamilyUnknown // rejoin at the next gate
				m.early = false
			}
		}()
	}
	req, leaving := transitionFacts(to, *rec, hf, m.operator)
	var err error
	if m.operator {
		others, err := m.side.Participants()
		if err != nil {
			return nil, err
		}
		req.OthersLive = len(others) > 0
	}
	if leaving != policy.FamilyUnknown && leaving != to {
		if req.OthersInFrom, err = m.side.OthersUseFamily(leaving); err != nil {
			return nil, err
		}
	}
	if req.FamilyRequest, err = m.familyFacts(to, rec, hf); err != nil {
		return nil, err
	}
	d := m.g.pol.Transition(req)
	if d.Allow {
		return nil, nil
	}
	return &RefusalError{DB: m.name, Op: op, Reason: d.Reason, Why: d.Why + m.inTheWay(d.Reason, to), Agreed: *rec}, nil
}

// transitionFacts is the part of a switch's facts that the record and the
// header's family hf give: the family the database is in (the header's,
// or the record's for a header that names none), whether it counts as WAL
// (the header says so, or the record does without a switch under way),
// and the family whose live users the switch must not leave behind.
func transitionFacts(to policy.Family, rec sidecar.Record, hf policy.Family, deliberate bool) (policy.TransitionRequest, policy.Family) {
	from := hf
	if from == policy.FamilyUnknown {
		from = rec.Family
	}
	saysWAL := hf == policy.FamilyWAL ||
		(hf == policy.FamilyRollback && rec.Family == policy.FamilyWAL && !rec.Switch.Pending)
	leaving := from
	if to == policy.FamilyRollback && saysWAL {
		leaving = policy.FamilyWAL
	}
	return policy.TransitionRequest{From: from, To: to, HeaderSaysWAL: saysWAL, Deliberate: deliberate}, leaving
}

// inTheWay names the live participants that block a change refused for
// reason r, for the refusal's message: "; in the way: app pid 42 (slot 3)".
// The agreement byte is held, so slot entries are complete.
func (m *mainFile) inTheWay(r policy.Reason, to policy.Family) string {
	var keep func(sidecar.Slot) bool
	switch r {
	case policy.ReasonOthersLive:
		keep = func(sidecar.Slot) bool { return true }
	case policy.ReasonFamilyMismatch:
		keep = func(s sidecar.Slot) bool { return s.Family == to.Other() }
	case policy.ReasonUpgradeWhileLive:
		keep = func(s sidecar.Slot) bool { return s.Family == policy.FamilyRollback }
	case policy.ReasonDowngradeWhileWAL:
		keep = func(s sidecar.Slot) bool { return s.Family == policy.FamilyWAL }
	default:
		return ""
	}
	live, err := m.side.ParticipantsWhere(keep)
	if err != nil || len(live) == 0 {
		return ""
	}
	names := make([]string, len(live))
	for i, p := range live {
		names[i] = fmt.Sprintf("%s pid %d (slot %d)", sidecar.Printable(p.Slot.Program, "unknown program"), p.Slot.PID, p.Index)
	}
	return "; in the way: " + strings.Join(names, ", ")
}

// recordHeaderWrite runs before a header write that changes the journal
// family reaches the file: it gates a change this file's pragma did not
// approve, and records the new family with a switch intent.
func (m *mainFile) recordHeaderWrite(f policy.Family) error {
	const op = "write header"
	return m.withAgreement(op, func(rec *sidecar.Record) error {
		prior := m.headerFamily()
		switch {
		case m.playback:
			// SQLite restores the header from a hot journal: the state
			// before an interrupted transaction, never a new decision.
			return m.followRestoredHeader(op, rec, f)
		case m.switching && f == m.switchFrom:
			// This connection's own switch failed and is rolled back.
			rec.Family, rec.Mode, rec.Switch = f, defaultMode(f), sidecar.SwitchIntent{}
			rec.Reason, rec.Detail = policy.ReasonRecovered, fmt.Sprintf("switch to %s failed and was rolled back", f.Other())
			m.setSwitching(false)
			return m.writeRecordOrFault(op, rec)
		case prior == f || prior == policy.FamilyUnknown:
			// The family on disk does not change: a view that was stale,
			// or the first page of a new database.
			if rec.Family == f && !rec.Switch.Pending {
				m.db.knownFamily.Store(uint32(f))
				return nil
			}
			was := rec.Family
			rec.Family, rec.Switch, rec.Detail = f, sidecar.SwitchIntent{}, ""
			rec.Mode, rec.Reason = m.modeFor(f)
			if err := m.writeRecord(rec); err != nil && !m.firstRecordCanWait(was, rec, err) {
				return m.sidecarFault(op, err)
			}
			return nil
		}
		if !m.approvedSwitch(prior, f) {
			refusal, err := m.decideSwitch(op, f, rec, prior)
			if err != nil {
				return m.sidecarFault(op, err)
			}
			if refusal != nil {
				return m.g.refuse(m.db, refusal)
			}
		}
		rec.Family, rec.Detail = f, fmt.Sprintf("switch from %s to %s", prior, f)
		rec.Mode, rec.Reason = m.modeFor(f)
		if slot := m.side.Slot(); slot >= 0 {
			rec.Switch = sidecar.SwitchIntent{Pending: true, From: prior, Slot: slot}
		}
		if err := m.writeRecordOrFault(op, rec); err != nil {
			return err
		}
		m.setSwitching(rec.Switch.Pending)
		m.switchFrom = prior
		return nil
	})
}

// setSwitching records whether this connection has a switch intent
// recorded, and counts it for its process (switcherLive).
func (m *mainFile) setSwitching(on bool) {
	if on != m.switching {
		m.side.SetSwitching(on)
	}
	m.switching = on
}

// approvedSwitch reports whether this file's pragma approved the change of
// the header from family prior to family to.
func (m *mainFile) approvedSwitch(prior, to policy.Family) bool {
	return m.approved == to && m.approvedAt == prior
}

// modeFor returns the mode and reason to record for a header this
// connection writes with family f.
func (m *mainFile) modeFor(f policy.Family) (policy.JournalMode, policy.Reason) {
	reason := policy.ReasonPragma
	if m.operator {
		reason = policy.ReasonOperator
	}
	if m.pendingMode.Family() == f {
		return m.pendingMode, reason
	}
	return defaultMode(f), policy.ReasonFirstUse
}

func (m *mainFile) writeRecordOrFault(op string, rec *sidecar.Record) error {
	if err := m.writeRecord(rec); err != nil {
		return m.sidecarFault(op, err)
	}
	return nil
}

// followRestoredHeader records a header that a hot journal's rollback
// writes back. A pending switch is resolved: rolled back.
func (m *mainFile) followRestoredHeader(op string, rec *sidecar.Record, f policy.Family) error {
	if rec.Family == f && !rec.Switch.Pending {
		m.db.knownFamily.Store(uint32(f))
		return nil
	}
	detail := fmt.Sprintf("hot journal rolled back to %s", f)
	if rec.Switch.Pending {
		detail = fmt.Sprintf("switch to %s by %s pid %d interrupted; hot journal rolled back to %s",
			rec.Family, sidecar.Printable(rec.Program, "unknown program"), rec.SetterPID, f)
		m.g.log().Info("walguard rolled back an interrupted switch", slog.String("db", m.name), slog.String("detail", detail))
	}
	rec.Family, rec.Mode, rec.Reason, rec.Detail, rec.Switch = f, defaultMode(f), policy.ReasonRecovered, detail, sidecar.SwitchIntent{}
	return m.writeRecordOrFault(op, rec)
}

// endSwitch resolves this connection's switch when its transaction has
// ended, committed or rolled back: the record follows the header, and a
// rollback declaration that the header's WAL has made moot is dropped.
func (m *mainFile) endSwitch() {
	m.approved, m.approvedAt = policy.FamilyUnknown, policy.FamilyUnknown
	// The process counts this switcher live (switcherLive) until the end
	// is recorded or given up, below.
	defer m.setSwitching(false)
	err := m.withAgreement("end switch", func(rec *sidecar.Record) error {
		hf := m.headerFamily()
		// The slot and pid name every connection of this process: an
		// intent is this connection's while it switches, or, retried at
		// close, while no other connection of the process has recorded
		// one since (asked under the turn, where intents are recorded).
		mine := m.switching || !m.side.SwitchingHere()
		if mine && rec.Switch.Pending && rec.SetterPID == processID && rec.Switch.Slot == m.side.Slot() && hf != policy.FamilyUnknown {
			if hf != rec.Family {
				rec.Mode, rec.Reason, rec.Detail = defaultMode(hf), policy.ReasonRecovered, fmt.Sprintf("switch to %s rolled back", rec.Family)
			}
			rec.Family, rec.Switch = hf, sidecar.SwitchIntent{}
			if err := m.writeRecord(rec); err != nil {
				return err
			}
		}
		if hf == policy.FamilyWAL && m.family == policy.FamilyRollback {
			// Invariant 8: this connection cannot write a rollback
			// journal any more; its declaration would only keep others out.
			if err := m.side.ReleaseFamily(); err != nil {
				return err
			}
			m.family = policy.FamilyUnknown
			m.early = false
			return m.writeSlot()
		}
		return nil
	})
	if err != nil {
		// The intent stays: the next reader resolves it once this
		// connection is gone, this process's other connections included
		// (whose slot is this one's, so other processes see the switcher
		// live while they are open).
		m.db.switchPending.Store(true)
		m.switchUnresolved = true
		m.g.log().Warn("walguard could not resolve its journal mode switch", slog.String("db", m.name), slog.Any("err", err))
		return
	}
	m.switchUnresolved = false
}

// reconcileHeader compares the header's family with the record's, at a
// join or when a page-1 read shows a family this process had not
// confirmed. The agreement byte is held.
func (m *mainFile) reconcileHeader(op string, rec *sidecar.Record, hf policy.Family) error {
	m.db.switchPending.Store(rec.Switch.Pending)
	switch headerVerdict(*rec, hf) {
	case headerUnknown:
		return nil
	case headerFirstUse:
		rec.Family, rec.Mode, rec.Reason, rec.Detail = hf, defaultMode(hf), policy.ReasonFirstUse, ""
		if err := m.writeRecord(rec); err != nil && !m.firstRecordCanWait(policy.FamilyUnknown, rec, err) {
			return m.sidecarFault(op, err)
		}
		return nil
	case headerAgreed:
		m.db.knownFamily.Store(uint32(hf))
		return nil
	}
	return m.foreignFlip(op, rec, hf)
}

// What a header's family says against the record's.
type headerOutcome uint8

const (
	headerUnknown  headerOutcome = iota // the header names no family (a new database): nothing to compare
	headerFirstUse                      // the record names no family yet: the header's is recorded as first use
	headerAgreed                        // they agree, or a switch intent explains the header: not a flip
	headerFlipped                       // a process without walguard changed the header (policy.Policy.ForeignFlip)
)

// headerVerdict compares the header's family hf with the record: a header
// that shows the family a pending switch comes from is a switch under way
// or interrupted, never a foreign flip.
func headerVerdict(rec sidecar.Record, hf policy.Family) headerOutcome {
	switch {
	case hf == policy.FamilyUnknown:
		return headerUnknown
	case rec.Family == policy.FamilyUnknown:
		return headerFirstUse
	case hf == rec.Family, rec.Switch.Pending && hf == rec.Switch.From:
		return headerAgreed
	}
	return headerFlipped
}

// resolveInterrupted settles a switch intent whose switcher is gone, from
// a header read under a lock, after SQLite rolled back any hot journal:
// the switch completed if the header shows its family, else it never
// reached the file.
func (m *mainFile) resolveInterrupted(hf policy.Family) error {
	const op = "read header"
	return m.withAgreement(op, func(rec *sidecar.Record) error {
		if !rec.Switch.Pending {
			m.db.switchPending.Store(false)
			return nil
		}
		if hf != rec.Family && hf != rec.Switch.From {
			return m.foreignFlip(op, rec, hf)
		}
		live, err := m.switcherLive(rec)
		if err != nil {
			return m.sidecarFault(op, err)
		}
		if live {
			return nil
		}
		outcome := "completed"
		if hf != rec.Family {
			outcome = "never reached the header"
			rec.Mode = defaultMode(hf)
		}
		detail := fmt.Sprintf("switch to %s by %s pid %d interrupted; %s", rec.Family,
			sidecar.Printable(rec.Program, "unknown program"), rec.SetterPID, outcome)
		rec.Family, rec.Reason, rec.Detail, rec.Switch = hf, policy.ReasonRecovered, detail, sidecar.SwitchIntent{}
		m.g.log().Info("walguard resolved an interrupted switch", slog.String("db", m.name), slog.String("detail", detail))
		if err := m.writeRecordOrFault(op, rec); err != nil {
			return err
		}
		m.db.switchPending.Store(false)
		return nil
	})
}

// switcherLive reports whether the connection that recorded rec's switch
// intent still holds its participant slot. The agreement byte is held.
func (m *mainFile) switcherLive(rec *sidecar.Record) (bool, error) {
	if rec.Switch.Slot == m.side.Slot() && rec.SetterPID == processID {
		// This process's slot: one of its connections recorded it.
		return m.switching || m.side.SwitchingHere(), nil
	}
	live, err := m.side.ParticipantsWhere(func(s sidecar.Slot) bool {
		return s.PID == rec.SetterPID && s.Host == rec.Host
	})
	if err != nil {
		return false, err
	}
	for _, p := range live {
		if p.Index == rec.Switch.Slot {
			return true, nil
		}
	}
	return false, nil
}
