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
	DB             string            `json:"db"`
	Kept           bool              `json:"kept"` // the database directory was left in place
	Guard          bool              `json:"guard"`
	Seed           int64             `json:"seed"`
	Duration       string            `json:"duration"`
	Workers        int               `json:"workers"`
	FlockWorkers   int               `json:"flock_workers"`
	WorkersStarted int               `json:"workers_started"`
	Operations     int64             `json:"operations"`
	Commits        int64             `json:"commits"`
	FailedTxns     int64             `json:"failed_txns"`    // transactions that failed in the application and were retried
	ShimRetries    uint64            `json:"shim_retries"`   // transient faults retried inside walguard
	ShimRecovered  uint64            `json:"shim_recovered"` // operations walguard completed after a retry
	Refusals       map[string]uint64 `json:"refusals"`       // walguard refusals by reason
	Fallbacks      int64             `json:"fallbacks"`      // naive WAL->DELETE fallbacks attempted
	DeleteAttempts int64             `json:"delete_attempts"`
	DeleteAccepted int64             `json:"delete_accepted"`
	FaultsInjected int64             `json:"faults_injected"`
	Kills          int               `json:"kills"`
	FamilyWrites   map[string]int    `json:"family_writes"` // commits by journal family
	Overlaps       int               `json:"family_overlaps"`
	Acked          int               `json:"acked_writes"`
	Rows           int               `json:"rows"`
	Integrity      string            `json:"integrity"` // "ok", or what integrity_check or the final open said
	Lost           int               `json:"lost_acked_writes"`
	LostSample     []int64           `json:"lost_sample,omitempty"`
	Safe           bool              `json:"safe"` // integrity ok, nothing lost, no family overlap
	WorkerErrors   []string          `json:"worker_errors,omitempty"`
}

// exitCode is 1 on corruption, a lost acknowledged write or, with the
// guard on, a family overlap; 0 otherwise.
func (r *stressReport) exitCode() int {
	if r.Integrity != "ok" || r.Lost > 0 || (r.Guard && r.Overlaps > 0) {
		return exitFound
	}
	return exitOK
}

func (r *stressReport) writeText(w io.Writer) error {
	guard := "on (walguard over faultvfs)"
	if !r.Guard {
		guard = "off (os VFS over faultvfs)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "walguard stress: %s, %d workers (%d flock), guard %s, seed %d\n",
		r.Duration, r.Workers, r.FlockWorkers, guard, r.Seed)
	fmt.Fprintf(&b, "database: %s", r.DB)
	if r.Kept {
		b.WriteString(" (kept)")
	} else {
		b.WriteString(" (removed)")
	}
	b.WriteString("\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "  %s\t%v\n", k, v) }
	row("workers started", r.WorkersStarted)
	row("operations", r.Operations)
	row("commits", r.Commits)
	row("acknowledged writes", r.Acked)
	row("failed txns (retried by app)", r.FailedTxns)
	row("retries in walguard", fmt.Sprintf("%d (%d recovered)", r.ShimRetries, r.ShimRecovered))
	if len(r.Refusals) == 0 {
		row("refusals", 0)
	}
	for _, reason := range slices.Sorted(maps.Keys(r.Refusals)) {
		row("refusals: "+reason, r.Refusals[reason])
	}
	row("naive fallbacks to DELETE", r.Fallbacks)
	row("DELETE tried / accepted", fmt.Sprintf("%d / %d", r.DeleteAttempts, r.DeleteAccepted))
	row("faults injected", r.FaultsInjected)
	row("kills", r.Kills)
	for _, f := range slices.Sorted(maps.Keys(r.FamilyWrites)) {
		row("commits in "+f, r.FamilyWrites[f])
	}
	row("family overlaps", r.Overlaps)
	row("rows in database", r.Rows)
	row("integrity", r.Integrity)
	row("lost acked writes", r.Lost)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.LostSample) > 0 {
		fmt.Fprintf(&b, "\nlost ids (sample): %v\n", r.LostSample)
	}
	for _, e := range r.WorkerErrors {
		fmt.Fprintf(&b, "worker: %s\n", e)
	}
	verdict := "SAFE: integrity ok, every acknowledged write present, no family overlap"
	if !r.Safe {
		verdict = "UNSAFE: see integrity, lost acked writes and family overlaps above"
	}
	fmt.Fprintf(&b, "\n%s\n", verdict)
	_, err := io.WriteString(w, b.String())
	return err
}

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
