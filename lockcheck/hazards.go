package lockcheck

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// Hazard codes, as Hazard.Code spells them. They are stable: scripts may
// match them.
const (
	// HazardMixedLockKinds: flock(2) locks and fcntl locks (POSIX or OFD)
	// on one file. They do not see each other, so writers are not excluded.
	HazardMixedLockKinds = "mixed-lock-kinds"
	// HazardWALOtherHost: a live participant on another host writes with WAL,
	// whose shared memory cannot span hosts.
	HazardWALOtherHost = "wal-other-host"
	// HazardFamilyMismatch: the header's journal family is not the one the
	// sidecar's record agreed: a foreign flip.
	HazardFamilyMismatch = "family-mismatch"
	// HazardHotJournal: a hot rollback journal, left by a writer that died
	// mid-transaction.
	HazardHotJournal = "hot-journal"
	// HazardHotJournalWAL: a hot rollback journal while the header says
	// WAL: a rollback writer and WAL writers both touched the database.
	// Reported instead of HazardHotJournal.
	HazardHotJournalWAL = "hot-journal-wal"
	// HazardBadSidecar: the sidecar exists but its record cannot be trusted
	// (garbage, torn, a newer version) or the file cannot be read.
	HazardBadSidecar = "bad-sidecar"
	// HazardParticipantsDisagree: live participants use different locking
	// protocols or journal families.
	HazardParticipantsDisagree = "participants-disagree"
	// HazardSidecarReplaced: live participants hold declarations on the
	// database's mirror bytes that the sidecar does not show: it was
	// removed, replaced or renamed over while in use.
	HazardSidecarReplaced = "sidecar-replaced"
	// HazardSeveralNames: the database file has more than one name (hard
	// links), so SQLite may keep two journals for it.
	HazardSeveralNames = "several-names"
)

// A Hazard is one problem Inspect found, with what to do about it.
type Hazard struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Advice  string `json:"advice"`
}

// findHazards appends every hazard the report shows.
func (r *Report) findHazards() {
	r.mixedLockKinds()
	r.walOnOtherHost()
	if !r.switchIntent() {
		r.familyMismatch()
	}
	r.settledRollback()
	r.hotJournal()
	r.badSidecar()
	r.participantsDisagree()
	r.sidecarReplaced()
	r.severalNames()
}

func (r *Report) hazard(code, advice, format string, args ...any) {
	r.Hazards = append(r.Hazards, Hazard{Code: code, Message: fmt.Sprintf(format, args...), Advice: advice})
}

// mixedLockKinds: POSIX and OFD locks conflict with each other on Linux,
// so only flock(2) beside either is a hazard.
func (r *Report) mixedLockKinds() {
	for _, role := range []string{RoleDB, RoleSHM} {
		var flock, fcntl []string
		for _, l := range r.Locks {
			if l.File != role || l.Blocked {
				continue
			}
			switch l.Kind {
			case KindFlock:
				flock = appendOnce(flock, holder(l.PID, l.Command, ""))
			case KindPOSIX, KindOFD:
				fcntl = appendOnce(fcntl, holder(l.PID, l.Command, strings.ToUpper(l.Kind)))
			}
		}
		if len(flock) > 0 && len(fcntl) > 0 {
			r.hazard(HazardMixedLockKinds,
				"build every program that opens this database with one locking protocol: ncruces's default (OFD) and C SQLite (POSIX) agree; a -tags sqlite3_flock build does not. Open it through walguard so that the sidecar refuses the odd one out",
				"%s: flock(2) locks by %s and fcntl locks by %s on one file: they do not see each other, so writers are not kept apart",
				role, strings.Join(flock, ", "), strings.Join(fcntl, ", "))
		}
	}
}

// holder names a lock's owner, for example "pid 42 (app, OFD)".
func holder(pid int, command, kind string) string {
	var about []string
	for _, s := range []string{command, kind} {
		if s != "" {
			about = append(about, s)
		}
	}
	who := "an unknown process"
	if pid > 0 {
		who = fmt.Sprintf("pid %d", pid)
	}
	if len(about) > 0 {
		who += " (" + strings.Join(about, ", ") + ")"
	}
	return who
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func (r *Report) walOnOtherHost() {
	for _, p := range r.Sidecar.Participants {
		if p.Entry == nil || p.Entry.Family != policy.FamilyWAL || p.Entry.Host == "" || p.Entry.Host == r.Host {
			continue
		}
		r.hazard(HazardWALOtherHost,
			"WAL's shared memory cannot span hosts: agree on the rollback family (PRAGMA journal_mode=DELETE through walguard) while several hosts share the file, or serve the database from one host (LiteFS, rqlite, Litestream)",
			"slot %d: %s pid %d on host %q writes with WAL, and this host is %q",
			p.Slot, sidecar.Printable(p.Entry.Program, "unknown program"), p.Entry.PID, p.Entry.Host, r.Host)
	}
}

func (r *Report) familyMismatch() {
	rec := r.Sidecar.Record
	if rec == nil || rec.Family == policy.FamilyUnknown || r.Header.Family == policy.FamilyUnknown || rec.Family == r.Header.Family {
		return
	}
	r.hazard(HazardFamilyMismatch,
		"a program that does not use walguard changed the journal mode (a foreign flip): find it in the locks above and open the database through walguard there too; then settle the mode once with PRAGMA journal_mode through walguard, which records it",
		"header and agreed mode disagree: the header says %s (bytes 18/19 = %d/%d), the sidecar's record says %s (generation %d, set by %s pid %d at %s)",
		r.Header.Family, r.Header.WriteVersion, r.Header.ReadVersion, rec.Family, rec.Generation,
		sidecar.Printable(rec.Program, "unknown program"), rec.SetterPID, sidecar.FormatTime(rec.SetAt))
}

func (r *Report) hotJournal() {
	if r.Journal.Hot != HotYes {
		return
	}
	if r.Header.Family == policy.FamilyWAL {
		r.hazard(HazardHotJournalWAL,
			"do not delete any file. Stop every program using the database, copy it with its -journal, -wal and -shm files aside together, open the copy once with sqlite3 (which rolls the journal back) and run PRAGMA integrity_check; restore from a backup if it fails",
			"hot journal while the header says WAL: a rollback-mode writer died mid-transaction in a database WAL connections use (%d bytes in %s)",
			r.Journal.Size, r.Journal.Path)
		return
	}
	r.hazard(HazardHotJournal,
		"do not delete the -journal: that corrupts the database. The next connection that reads rolls it back; to be sure, open the database once with sqlite3 and run PRAGMA integrity_check",
		"hot journal: a writer died mid-transaction and left %s (%d bytes) to roll back",
		r.Journal.Path, r.Journal.Size)
}

func (r *Report) badSidecar() {
	s := r.Sidecar
	if s.Error != "" {
		r.hazard(HazardBadSidecar,
			"walguard cannot use the sidecar either: make it a regular file readable and writable by every user of the database, or move it aside (it holds no data, only the agreement)",
			"sidecar %s cannot be read: %s", s.Path, s.Error)
		return
	}
	if !s.Exists || s.RecordErr == nil || errors.Is(s.RecordErr, sidecar.ErrNoRecord) {
		return
	}
	advice := "walguard refuses or rebuilds a record it cannot trust; if this comes back, something other than walguard writes that file. With every walguard program stopped, the sidecar may be moved aside: it holds no data, only the agreement"
	if errors.Is(s.RecordErr, sidecar.ErrVersion) {
		advice = "a newer walguard wrote this record: upgrade this walguard (and every program using the database) rather than deleting the sidecar"
	}
	r.hazard(HazardBadSidecar, advice, "sidecar %s holds no trustworthy record: %v", s.Path, s.RecordErr)
}

func (r *Report) participantsDisagree() {
	protocols := map[policy.Protocol]bool{}
	families := map[policy.Family]bool{}
	for _, p := range r.Sidecar.Protocols {
		protocols[p] = true
	}
	for _, f := range r.Sidecar.Families {
		families[f] = true
	}
	for _, p := range r.Sidecar.Participants {
		if p.Entry != nil {
			protocols[p.Entry.Protocol] = true
			families[p.Entry.Family] = true
		}
	}
	delete(protocols, policy.ProtocolUnknown)
	delete(families, policy.FamilyUnknown)
	if r.Header.Family == policy.FamilyWAL && families[policy.FamilyRollback] {
		// Invariant 8: once the header says WAL nobody can write a
		// rollback journal; an idle connection's declaration is moot.
		delete(families, policy.FamilyRollback)
		r.note("a rollback declaration is held while the header says WAL: an idle connection that has not written since the switch; it writes with WAL at its next transaction")
	}
	if protocols[policy.ProtocolOFD] && protocols[policy.ProtocolPOSIX] {
		delete(protocols, policy.ProtocolPOSIX) // one family: see policy.Compatible
	}
	if len(protocols) > 1 {
		r.hazard(HazardParticipantsDisagree,
			"walguard should have refused the later one: check that every program runs the same walguard version, and rebuild the odd one with the same locking protocol",
			"live participants lock with different protocols: %s", joinSorted(protocols))
	}
	if len(families) > 1 {
		r.hazard(HazardParticipantsDisagree,
			"walguard should have refused the later one: stop the programs, check the database with PRAGMA integrity_check, and settle one journal mode through walguard",
			"live participants write with different journal families: %s", joinSorted(families))
	}
}

func joinSorted[T interface {
	~uint8
	String() string
}](set map[T]bool) string {
	keys := make([]T, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.String()
	}
	return strings.Join(names, " and ")
}
