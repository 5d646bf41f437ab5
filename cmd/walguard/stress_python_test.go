package main

import (
	"os"
	"os/exec"
	"testing"
)

// The mixed-language stress run, short, guard on and off: Python workers
// with libwalguard (the naive fallback routine in every one of them, -wal
// opens failing with EIO) beside a Go worker, every worker reconnecting
// for each transaction, with kills. Guarded, the verdict is SAFE, the
// Python workers committed transactions of their own, and no fallback
// left WAL. With the guard off the same run shows the post-mortem's
// downgrade: a Python worker's fallback takes the WAL database to
// journal_mode=delete while the other workers run, and the verdict is
// UNSAFE.
func TestStressPythonWorkersGuardOnSafeGuardOffDowngrades(t *testing.T) {
	for _, need := range []string{"cc", stressPython} {
		if _, err := exec.LookPath(need); err != nil {
			t.Fatalf("%s is needed for -python-workers (.ci/run installs gcc and python3): %v", need, err)
		}
	}
	if _, err := os.Stat("/usr/include/sqlite3.h"); err != nil {
		t.Fatalf("the SQLite headers are needed for -python-workers (.ci/run installs libsqlite3-dev): %v", err)
	}
	args := []string{"-workers", "3", "-python-workers", "2", "-fallback-rate", "1", "-reconnect-rate", "1",
		"-fault-rate", "0.05", "-kill-interval", "1s", "-duration", "3s", "-seed", "13"}

	code, rep := runStressJSON(t, append([]string{"-guard", "on"}, args...)...)
	t.Logf("guard on: commits %d (python %d) %v, fallbacks %d, downgrades %d, refusals %v, overlaps %d, integrity %q, lost %d, kills %d",
		rep.Commits, rep.PythonCommits, rep.FamilyWrites, rep.Fallbacks, rep.Downgrades, rep.Refusals, rep.Overlaps, rep.Integrity, rep.Lost, rep.Kills)
	if !rep.Safe || code != exitOK {
		t.Errorf("guard on: safe %v, exit %d; want a safe run and exit %d (overlaps %d, downgrades %d, integrity %q, lost %d, worker errors %q)",
			rep.Safe, code, exitOK, rep.Overlaps, rep.Downgrades, rep.Integrity, rep.Lost, rep.WorkerErrors)
	}
	if rep.PythonWorkers != 2 || rep.PythonCommits == 0 {
		t.Errorf("guard on: python workers %d committed %d transactions; want 2 workers that committed", rep.PythonWorkers, rep.PythonCommits)
	}
	if len(rep.WorkerErrors) > 0 {
		t.Errorf("guard on: worker errors: %q", rep.WorkerErrors)
	}

	code, rep = runStressJSON(t, append([]string{"-guard", "off"}, args...)...)
	t.Logf("guard off: commits %d (python %d) %v, fallbacks %d, downgrades %d (python %d), overlaps %d, integrity %q, lost %d, kills %d",
		rep.Commits, rep.PythonCommits, rep.FamilyWrites, rep.Fallbacks, rep.Downgrades, rep.PythonDowngrades, rep.Overlaps, rep.Integrity, rep.Lost, rep.Kills)
	if rep.Guard || rep.PythonDowngrades == 0 || rep.Downgrades < rep.PythonDowngrades {
		t.Errorf("guard off (report's guard %v): %d downgrades, %d of them by python3; want the post-mortem's downgrade by a Python worker",
			rep.Guard, rep.Downgrades, rep.PythonDowngrades)
	}
	if rep.Safe || !rep.Kept {
		t.Errorf("guard off: safe %v, kept %v after %d downgrades; want an unsafe run whose database is kept", rep.Safe, rep.Kept, rep.Downgrades)
	}
	if want := exitOK; rep.Integrity != "ok" || rep.Lost > 0 {
		want = exitFound
		if code != want {
			t.Errorf("guard off: exit %d, want %d for integrity %q and %d lost", code, want, rep.Integrity, rep.Lost)
		}
	} else if code != want {
		t.Errorf("guard off: exit %d, want %d (without the guard only corruption or a lost write fails the exit code)", code, want)
	}
}
