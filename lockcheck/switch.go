package lockcheck

import (
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// HazardInterruptedSwitch: the record holds a switch intent whose switcher
// is gone: it died inside PRAGMA journal_mode (or walguard mode) before
// its transaction ended.
const HazardInterruptedSwitch = "interrupted-switch"

// switchIntent reports a pending switch intent: an interrupted switch when
// its switcher no longer holds its slot, a note when it is under way. It
// reports whether the intent explains the header, so that familyMismatch
// does not blame a program without walguard for it.
func (r *Report) switchIntent() (explained bool) {
	rec := r.Sidecar.Record
	if rec == nil || !rec.Switch.Pending {
		return false
	}
	from, to := rec.Switch.From, rec.Family
	explained = r.Header.Family == from || r.Header.Family == to
	who := sidecar.Printable(rec.Program, "unknown program")
	if r.switcherLive(rec) {
		r.note("switch from %s to %s under way by %s pid %d (slot %d) since %s",
			from, to, who, rec.SetterPID, rec.Switch.Slot, sidecar.FormatTime(rec.SetAt))
		return explained
	}
	outcome := "the switch never reached the header, which still says " + from.String()
	switch {
	case r.Header.Family == to && r.Journal.Hot == HotYes:
		outcome = "the header says " + to.String() + " but the hot journal holds the page from before: SQLite will roll it back to " + from.String()
	case r.Header.Family == to:
		outcome = "the header says " + to.String() + ": the switch completed"
	case !explained:
		outcome = "the header says " + r.Header.Family.String() + ", neither family of the switch"
	}
	r.hazard(HazardInterruptedSwitch,
		"nothing is lost and nothing needs deleting (least of all the -journal): the next connection through walguard that reads the database rolls the switch back or completes it, as SQLite does, records the outcome and clears this; open the database once through walguard, then check again. Run walguard mode DB MODE to set the mode deliberately afterwards",
		"interrupted switch by %s pid %d: from %s to %s at %s (slot %d is free); %s",
		who, rec.SetterPID, from, to, sidecar.FormatTime(rec.SetAt), rec.Switch.Slot, outcome)
	return explained
}

// switcherLive reports whether the slot named by rec's intent is live and
// owned by the process that recorded it.
func (r *Report) switcherLive(rec *sidecar.Record) bool {
	for _, p := range r.Sidecar.Participants {
		if p.Slot == rec.Switch.Slot && p.Entry != nil && p.Entry.PID == rec.SetterPID && p.Entry.Host == rec.Host {
			return true
		}
	}
	return false
}

// settledRollback notes a rollback family settled by a deterministic
// signal: the signal, when and where, and the way to test WAL again.
func (r *Report) settledRollback() {
	rec := r.Sidecar.Record
	if rec == nil || rec.Family != policy.FamilyRollback || rec.Reason != policy.ReasonIncompatible {
		return
	}
	r.note("rollback settled by %s (%s) at %s by %s pid %d on %s; walguard refuses WAL until an operator tests it again: walguard mode DB wal",
		rec.Reason, sidecar.Printable(rec.Detail, "no detail"), sidecar.FormatTime(rec.SetAt),
		sidecar.Printable(rec.Program, "unknown program"), rec.SetterPID, sidecar.Printable(rec.Host, "unknown host"))
}
