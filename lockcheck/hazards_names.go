package lockcheck

import "strings"

// sidecarReplaced: walguard keeps live participants apart through the
// database's mirror bytes even then, but the record and the slot entries
// of the first sidecar are gone from view.
func (r *Report) sidecarReplaced() {
	s := r.Sidecar
	if !s.ReplacedWhileInUse {
		return
	}
	what := "replaced"
	if !s.Exists {
		what = "removed"
	}
	r.hazard(HazardSidecarReplaced,
		"do not remove, replace or restore the sidecar while programs use the database: walguard still keeps them apart through the database's own mirror bytes, but their descriptions are in the file that was there. It heals once every program that opened the database before has closed it",
		"sidecar replaced while in use: %s was %s while participants were live; the database's mirror bytes show protocols %s, families %s and slots %s that it does not list",
		s.Path, what, listOrNone(s.Protocols), listOrNone(s.Families), intsOrNone(s.UnlistedSlots))
}

// severalNames: SQLite finds -journal and -wal by the name it opened.
func (r *Report) severalNames() {
	if r.Names <= 1 {
		return
	}
	r.hazard(HazardSeveralNames,
		"SQLite does not support several links to one database: remove the other names (find them with: find / -samefile "+shellQuote(r.Path)+"); walguard refuses writers here unless policy.AllowHardLinks",
		"the database file has %d names (hard links): writers through two names keep two -journal or -wal files for one database", r.Names)
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
