package main

import (
	"os"
	"os/exec"
	"testing"
)

// The mixed-language stress run, short: Python workers with libwalguard
// (the naive fallback routine in every one of them, -wal opens failing
// with EIO) beside a Go worker, with kills. The verdict is SAFE, and the
// Python workers committed transactions of their own.
func TestStressGuardedPythonWorkersSafe(t *testing.T) {
	for _, need := range []string{"cc", stressPython} {
		if _, err := exec.LookPath(need); err != nil {
			t.Fatalf("%s is needed for -python-workers (.ci/run installs gcc and python3): %v", need, err)
		}
	}
	if _, err := os.Stat("/usr/include/sqlite3.h"); err != nil {
		t.Fatalf("the SQLite headers are needed for -python-workers (.ci/run installs libsqlite3-dev): %v", err)
	}
	code, rep := runStressJSON(t, "-workers", "3", "-python-workers", "2", "-fallback-rate", "1",
		"-fault-rate", "0.05", "-kill-interval", "1s", "-duration", "3s", "-seed", "13")
	t.Logf("report: commits %d (python %d) %v, refusals %v, overlaps %d, integrity %q, lost %d, kills %d",
		rep.Commits, rep.PythonCommits, rep.FamilyWrites, rep.Refusals, rep.Overlaps, rep.Integrity, rep.Lost, rep.Kills)
	if !rep.Safe || code != exitOK {
		t.Errorf("safe %v, exit %d; want a safe run and exit %d (overlaps %d, integrity %q, lost %d, worker errors %q)",
			rep.Safe, code, exitOK, rep.Overlaps, rep.Integrity, rep.Lost, rep.WorkerErrors)
	}
	if rep.PythonWorkers != 2 || rep.PythonCommits == 0 {
		t.Errorf("python workers %d committed %d transactions; want 2 workers that committed", rep.PythonWorkers, rep.PythonCommits)
	}
	if len(rep.WorkerErrors) > 0 {
		t.Errorf("worker errors: %q", rep.WorkerErrors)
	}
}
