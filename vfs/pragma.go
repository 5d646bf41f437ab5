package vfs

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// StatusPragma is the name of the pragma that returns walguard's status
// for the database as JSON: PRAGMA walguard_status.
const StatusPragma = "walguard_status"

// operatorCommitPragma records, on a connection opened by SetJournalMode,
// the mode its PRAGMA journal_mode set, with "operator" as the reason.
const operatorCommitPragma = "walguard_operator_commit"

// Pragma answers PRAGMA walguard_status, and checks PRAGMA journal_mode
// before SQLite acts on it: every pragma reaches the VFS first.
//
// https://sqlite.org/c3ref/c_fcntl_begin_atomic_write.html#sqlitefcntlpragma
func (m *mainFile) Pragma(name, value string) (string, error) {
	switch name {
	case StatusPragma:
		st, err := m.g.Status(m.name)
		if err != nil {
			return "", fmt.Errorf("walguard status of %s: %w", m.name, err)
		}
		return st.json(), nil
	case "journal_mode":
		if mode, ok := gatedJournalMode(value); ok {
			if err := m.journalMode(mode); err != nil {
				// The text of the error in hand is the pragma's message,
				// whatever its code.
				return err.Error(), toSQLite(err, sqlite3.ERROR)
			}
		}
	case operatorCommitPragma:
		if m.operator {
			return m.recordOperator()
		}
	}
	return m.File.Pragma(name, value)
}

// gatedJournalMode returns the mode a PRAGMA journal_mode value asks for,
// parsed as SQLite parses it, and whether the pragma gate decides it. An
// empty value is either a query or journal_mode set to an empty string (DELETE): the VFS
// cannot tell them apart, so that one meets the gate at the header write;
// a value that names no mode only queries.
func gatedJournalMode(value string) (policy.JournalMode, bool) {
	mode, ok := policy.ParseJournalMode(value)
	return mode, ok && value != ""
}

// journalMode decides a journal_mode change before SQLite has written
// anything: nil admits it, a *RefusalError refuses it. A refusal that
// waiting can end waits as SQLite's busy handler would for a lock, bounded
// by the connection's busy_timeout (or Options.PragmaWait without a
// handler), before it is returned.
func (m *mainFile) journalMode(mode policy.JournalMode) error {
	op := "journal_mode=" + mode.String()
	start := time.Now()
	for attempt := 1; ; attempt++ {
		refusal, hf, err := m.decideJournalMode(op, mode)
		if err == nil && refusal == nil {
			m.pendingMode = mode
			// An approval is for the change of family it decided, from
			// the header as it was: a pragma that kept the family approves
			// no header write, and none from a family the header has left.
			m.approved, m.approvedAt = policy.FamilyUnknown, policy.FamilyUnknown
			if mode.Family() != hf {
				m.approved, m.approvedAt = mode.Family(), hf
			}
			return nil
		}
		if err == nil {
			err = refusal
		}
		if waitable(err) && m.waitLikeBusyHandler(attempt, start) {
			continue
		}
		if refusal != nil {
			return m.g.refuse(m.db, refusal)
		}
		return err
	}
}

// decideJournalMode runs one try of the decision for a journal_mode
// change: the refusal, or an error already refused (a join or the sidecar),
// and the header's family on disk it was decided against.
func (m *mainFile) decideJournalMode(op string, mode policy.JournalMode) (*RefusalError, policy.Family, error) {
	if !m.admitted {
		if err := m.admit(op); err != nil {
			return nil, policy.FamilyUnknown, err
		}
	}
	var refusal *RefusalError
	hf := policy.FamilyUnknown
	err := m.withAgreement(op, func(rec *sidecar.Record) error {
		var err error
		hf = m.headerFamily()
		refusal, err = m.decideSwitch(op, mode.Family(), rec, hf)
		if err != nil {
			return m.sidecarFault(op, err)
		}
		return nil
	})
	return refusal, hf, err
}

// waitLikeBusyHandler waits before another try, and reports whether to
// try again: as long as SQLite's busy handler says so (it measures the
// busy_timeout), or within Options.PragmaWait when SQLite gave none.
func (m *mainFile) waitLikeBusyHandler(attempt int, start time.Time) bool {
	if m.busyHandler == nil && m.g.opts.PragmaWait <= 0 {
		return false
	}
	m.g.stats.pragmaWaits.Add(1)
	time.Sleep(m.g.pol.Retry.Delay(attempt, rand.Float64()))
	if m.busyHandler != nil {
		return m.busyHandler()
	}
	return time.Since(start) < m.g.opts.PragmaWait
}

// recordOperator records the mode an operator's journal_mode set, with the
// operator as the reason, once SQLite has made the change.
func (m *mainFile) recordOperator() (string, error) {
	const op = "record operator change"
	mode := m.pendingMode
	err := m.withAgreement(op, func(rec *sidecar.Record) error {
		hf := m.headerFamily()
		if hf != mode.Family() {
			return fmt.Errorf("walguard %s on %s: the header says %s, not %s; the mode did not change", op, m.name, hf, mode)
		}
		rec.Family, rec.Mode, rec.Reason, rec.Switch = hf, mode, policy.ReasonOperator, sidecar.SwitchIntent{}
		rec.Detail = "deliberate journal_mode=" + mode.String()
		m.db.settled.Store(false)
		return m.writeRecordOrFault(op, rec)
	})
	if err != nil {
		return err.Error(), toSQLite(err, sqlite3.ERROR)
	}
	return mode.String(), nil
}
