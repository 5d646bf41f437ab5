package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// stressReport is the outcome of a stress run; -json prints it as is.
type stressReport struct {
	DB                string            `json:"db"`
	Kept              bool              `json:"kept"` // the database directory was left in place
	Guard             bool              `json:"guard"`
	Seed              int64             `json:"seed"`
	Duration          string            `json:"duration"`              // how long the workers ran
	Interrupted       string            `json:"interrupted,omitempty"` // the signal that stopped the run early
	Workers           int               `json:"workers"`               // workers alive at once
	FlockWorkers      int               `json:"flock_workers"`
	PythonWorkers     int               `json:"python_workers"`      // workers that are python3 with libwalguard (ext/)
	PythonCommits     int64             `json:"python_commits"`      // transactions committed by them, from their stats lines
	ShmWorkers        int               `json:"shm_fault_workers"`   // workers run under strace's -shm faults
	ShmFaults         int               `json:"shm_faults_injected"` // faults strace injected into -shm calls
	Reconnects        int64             `json:"reconnects"`          // connections closed and reopened by reconnecting workers
	WorkersStarted    int               `json:"workers_started"`     // replacements of killed workers included
	WorkersAlive      int               `json:"workers_alive"`       // at the time of the report
	Operations        int64             `json:"operations"`
	Commits           int64             `json:"commits"`        // transactions whose COMMIT returned nil (exact)
	FailedTxns        int64             `json:"failed_txns"`    // transactions that failed in the application and were retried
	ShimRetries       uint64            `json:"shim_retries"`   // transient faults retried inside walguard
	ShimRecovered     uint64            `json:"shim_recovered"` // operations walguard completed after a retry
	Refusals          map[string]uint64 `json:"refusals"`       // walguard refusals by reason
	Fallbacks         int64             `json:"fallbacks"`      // naive WAL->DELETE fallbacks attempted
	Downgrades        int               `json:"downgrades"`     // the post-mortem's downgrade: a fallback took the database out of WAL (exact)
	PythonDowngrades  int               `json:"python_downgrades"`
	DeleteAttempts    int64             `json:"delete_attempts"`
	DeleteAccepted    int64             `json:"delete_accepted"`
	Deliberate        int64             `json:"deliberate_changes"`         // deliberate mode changes (SetJournalMode) made
	DeliberateRefused int64             `json:"deliberate_changes_refused"` // ... and refused because others were live
	FaultsInjected    int64             `json:"faults_injected"`
	Kills             int               `json:"kills"`
	FamilyWrites      map[string]int    `json:"family_writes"` // commits by journal family
	Overlaps          int               `json:"family_overlaps"`
	Acked             int               `json:"acked_writes"`
	Rows              int               `json:"rows"`
	Integrity         string            `json:"integrity"` // "ok", or a one-line summary of what integrity_check or the final open said
	IntegrityProblems int               `json:"integrity_problems,omitempty"`
	Lost              int               `json:"lost_acked_writes"`
	LostSample        []int64           `json:"lost_sample,omitempty"`
	Safe              bool              `json:"safe"` // integrity ok, nothing lost, no family overlap, no downgrade
	WorkerErrors      []string          `json:"worker_errors,omitempty"`
}

// exitStressInterrupted is the exit code of a run stopped by a signal in
// which nothing unsafe was found.
const exitStressInterrupted = 3

// exitCode is 1 on corruption, a lost acknowledged write or, with the
// guard on, a family overlap or a downgrade; otherwise 3 if the run was
// interrupted, else 0.
func (r *stressReport) exitCode() int {
	switch {
	case r.Integrity != "ok" || r.Lost > 0 || (r.Guard && (r.Overlaps > 0 || r.Downgrades > 0)):
		return exitFound
	case r.Interrupted != "":
		return exitStressInterrupted
	}
	return exitOK
}

func (r *stressReport) writeText(w io.Writer) error {
	stack := "guard on (walguard over faultvfs over os)"
	if !r.Guard {
		stack = "guard off (faultvfs over os)"
	}
	var b strings.Builder
	flock := ""
	if r.FlockWorkers > 0 {
		flock = fmt.Sprintf(" (%d of them a sqlite3_flock build)", r.FlockWorkers)
	}
	if r.PythonWorkers > 0 {
		flock += fmt.Sprintf(" (%d of them python3 with libwalguard)", r.PythonWorkers)
	}
	fmt.Fprintf(&b, "walguard stress: %s, %d workers at once%s, %s, seed %d\n",
		r.Duration, r.Workers, flock, stack, r.Seed)
	if r.Interrupted != "" {
		fmt.Fprintf(&b, "interrupted (%s) after %s: the report covers the run so far\n", r.Interrupted, r.Duration)
	}
	fmt.Fprintf(&b, "database: %s", r.DB)
	switch {
	case r.Kept && !r.Safe:
		b.WriteString(" (kept for inspection)")
	case r.Kept:
		b.WriteString(" (kept)")
	default:
		b.WriteString(" (removed)")
	}
	b.WriteString("\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "  %s\t%v\n", k, v) }
	row("workers started, replacements included", r.WorkersStarted)
	row("operations (transactions, reads, mode switches)", r.Operations)
	families := []string{}
	for _, f := range slices.Sorted(maps.Keys(r.FamilyWrites)) {
		families = append(families, fmt.Sprintf("%s %d", f, r.FamilyWrites[f]))
	}
	row("transactions committed", fmt.Sprintf("%d (%s)", r.Commits, strings.Join(families, ", ")))
	if r.PythonWorkers > 0 {
		row("... of them by python3 with libwalguard", r.PythonCommits)
	}
	row("rows acknowledged (COMMIT returned nil)", r.Acked)
	row("transactions failed in the application", r.FailedTxns)
	row("faults injected (EIO)", r.FaultsInjected)
	if r.ShmWorkers > 0 {
		row("shared-memory faults injected (strace)", fmt.Sprintf("%d in %d workers", r.ShmFaults, r.ShmWorkers))
	}
	row("reconnections (reconnecting workers)", r.Reconnects)
	row("walguard retries / operations recovered", fmt.Sprintf("%d / %d", r.ShimRetries, r.ShimRecovered))
	if len(r.Refusals) == 0 {
		row("walguard refusals", 0)
	}
	for _, reason := range slices.Sorted(maps.Keys(r.Refusals)) {
		row("walguard refusals: "+reason, r.Refusals[reason])
	}
	row("naive fallbacks to DELETE", r.Fallbacks)
	downgrades := fmt.Sprint(r.Downgrades)
	if r.PythonWorkers > 0 {
		downgrades += fmt.Sprintf(" (%d by python3)", r.PythonDowngrades)
	}
	row("... that took the database out of WAL (downgrades)", downgrades)
	row("DELETE tried / accepted", fmt.Sprintf("%d / %d", r.DeleteAttempts, r.DeleteAccepted))
	row("deliberate DELETE made / refused", fmt.Sprintf("%d / %d", r.Deliberate, r.DeliberateRefused))
	row("workers killed", r.Kills)
	row("family overlaps", r.Overlaps)
	row("rows in database", r.Rows)
	row("integrity", r.Integrity)
	row("acknowledged rows lost", r.Lost)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.LostSample) > 0 {
		fmt.Fprintf(&b, "\nlost ids (sample): %v\n", r.LostSample)
	}
	for _, e := range r.WorkerErrors {
		fmt.Fprintf(&b, "worker: %s\n", e)
	}
	b.WriteString(stressFooter)
	verdict := "SAFE: integrity ok, every acknowledged row present, no family overlap, no downgrade"
	if !r.Safe {
		verdict = "UNSAFE: see integrity, acknowledged rows lost, family overlaps and downgrades above"
	}
	if r.Downgrades > 0 {
		verdict += fmt.Sprintf("\nthe post-mortem's downgrade: %d time(s) a naive fallback took the WAL database to journal_mode=delete while other workers ran", r.Downgrades)
	}
	if r.Interrupted != "" {
		verdict += " (so far: interrupted)"
	}
	fmt.Fprintf(&b, "\n%s\n", verdict)
	_, err := io.WriteString(w, b.String())
	return err
}

// stressFooter explains the rows of the text report.
const stressFooter = `
Transactions committed, rows acknowledged, workers killed and family
overlaps are exact; the other counts are summed from each worker's last
stats line (every 250 ms), so a killed worker's last moments are missing;
the database may hold a few rows more than were acknowledged, committed by
a worker killed before it could say so.
A walguard retry is one more attempt at a VFS call that failed with a
transient fault; one operation may take several, and one that still fails
reaches SQLite as an error (failed transactions count those in writes).
A family overlap is two workers writing in different journal families
(WAL, rollback) at the same time. A downgrade is the post-mortem's: the
header said WAL right before a connection's naive fallback and rollback
right after it, while the other workers ran (exact).
`

// familyRun is a stretch of one worker's commits in one journal family:
// from the start of its first transaction to the end of its last (Unix ns).
type familyRun struct {
	worker     int64
	family     string
	start, end int64
}

// familyRuns records commits per worker and merges consecutive commits of
// one family into runs.
type familyRuns struct {
	open map[int64]*familyRun // the current run of each worker
	done []familyRun
}

func (f *familyRuns) commit(worker int64, family string, start, end int64) {
	if f.open == nil {
		f.open = map[int64]*familyRun{}
	}
	if r := f.open[worker]; r != nil {
		if r.family == family {
			r.start, r.end = min(r.start, start), max(r.end, end)
			return
		}
		f.done = append(f.done, *r)
	}
	f.open[worker] = &familyRun{worker: worker, family: family, start: start, end: end}
}

// close ends worker's current run: its connection closed.
func (f *familyRuns) close(worker int64) {
	if r := f.open[worker]; r != nil {
		f.done = append(f.done, *r)
		delete(f.open, worker)
	}
}

// overlaps counts pairs of runs of different workers in different families
// that share an instant: two live connections writing in different
// journal families at the same time.
func (f *familyRuns) overlaps() int {
	runs := slices.Clone(f.done)
	for _, r := range f.open {
		runs = append(runs, *r)
	}
	n := 0
	for i := range runs {
		for j := i + 1; j < len(runs); j++ {
			a, b := runs[i], runs[j]
			if a.worker != b.worker && a.family != b.family && a.start <= b.end && b.start <= a.end {
				n++
			}
		}
	}
	return n
}

// familyOf maps a journal_mode answer to its family.
func familyOf(mode string) string {
	if mode == "wal" {
		return "wal"
	}
	return "rollback"
}
