package vfs

import (
	"fmt"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// StatusPragma is the name of the pragma that returns walguard's status
// for the database as JSON: PRAGMA walguard_status.
const StatusPragma = "walguard_status"

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
		if mode, ok := policy.ParseJournalMode(value); ok {
			if err := m.journalMode(mode); err != nil {
				// The text of the error in hand is the pragma's message,
				// whatever its code.
				return err.Error(), toSQLite(err, sqlite3.ERROR)
			}
		}
	}
	return m.File.Pragma(name, value)
}

// journalMode decides a journal_mode change, before SQLite has written
// anything: nil admits it, a *RefusalError refuses it.
func (m *mainFile) journalMode(mode policy.JournalMode) error {
	op := "journal_mode=" + mode.String()
	if !m.admitted {
		if err := m.admit(op); err != nil {
			return err
		}
	}
	to := mode.Family()
	var refusal *RefusalError
	err := m.withAgreement(op, func(rec *sidecar.Record) error {
		// Our own declaration must not count as another's: OFD tests ignore
		// it, but a Windows test would see it. Restore it after deciding.
		if held := m.side.Family(); held != policy.FamilyUnknown {
			if err := m.side.ReleaseFamily(); err != nil {
				return m.sidecarFault(op, err)
			}
			defer func() {
				if m.side.HoldFamily(held) != nil {
					m.family = policy.FamilyUnknown // rejoin at the next gate
				}
			}()
		}
		from := m.headerFamily()
		if from == policy.FamilyUnknown {
			from = rec.Family
		}
		req := policy.TransitionRequest{From: from, To: to, HeaderSaysWAL: from == policy.FamilyWAL}
		var err error
		if from != policy.FamilyUnknown && from != to {
			if req.OthersInFrom, err = m.side.OthersUseFamily(from); err != nil {
				return m.sidecarFault(op, err)
			}
		}
		if req.FamilyRequest, err = m.familyFacts(to, rec); err != nil {
			return m.sidecarFault(op, err)
		}
		d := m.g.pol.Transition(req)
		if from == to || from == policy.FamilyUnknown {
			// No change of family: only what admitting it would check.
			d = m.g.pol.AdmitFamily(req.FamilyRequest)
		}
		if !d.Allow {
			refusal = &RefusalError{DB: m.name, Op: op, Reason: d.Reason, Why: d.Why, Agreed: *rec}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if refusal != nil {
		return m.g.refuse(m.db, refusal)
	}
	m.pendingMode = mode
	return nil
}
