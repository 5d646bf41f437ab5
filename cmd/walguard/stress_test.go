package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain lets the test binary serve as the stress workers: the parent
// (runStress, in-process) starts this binary again with stressWorkerEnv set.
func TestMain(m *testing.M) {
	if cfg := os.Getenv(stressWorkerEnv); cfg != "" {
		os.Exit(stressWorkerMain(cfg, os.Stdin, os.Stdout, os.Stderr))
	}
	stressWorkerCommand = func() (string, []string, error) {
		return os.Args[0], []string{"-test.run=^$"}, nil
	}
	os.Exit(m.Run())
}

// runStressJSON runs "walguard stress -json ARGS" in-process with workers
// as real child processes, and decodes the report.
func runStressJSON(t *testing.T, args ...string) (int, stressReport) {
	t.Helper()
	args = append([]string{"stress", "-json", "-dir", t.TempDir()}, args...)
	code, stdout, stderr := runCLI(args...)
	var rep stressReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("exit %d, report is not JSON: %v\nstdout: %s\nstderr: %s", code, err, stdout, stderr)
	}
	return code, rep
}

func TestStressGuardedRunLosesNothing(t *testing.T) {
	code, rep := runStressJSON(t, "-duration", "2s", "-workers", "3", "-kill-interval", "300ms", "-seed", "7")
	t.Logf("report: %+v", rep)
	if code != exitOK {
		t.Errorf("exit %d, want %d", code, exitOK)
	}
	if rep.Integrity != "ok" || rep.Lost != 0 || rep.Overlaps != 0 || !rep.Safe {
		t.Errorf("integrity %q, lost %d, overlaps %d, safe %v; want ok, 0, 0, true", rep.Integrity, rep.Lost, rep.Overlaps, rep.Safe)
	}
	if rep.Acked == 0 || rep.Rows < rep.Acked {
		t.Errorf("acked %d, rows %d: want some acknowledged writes, all in the database", rep.Acked, rep.Rows)
	}
	if rep.FaultsInjected == 0 {
		t.Error("no fault was injected")
	}
	if rep.Kills == 0 || rep.WorkersStarted < 3+rep.Kills {
		t.Errorf("kills %d, workers started %d: want at least one kill, each replaced", rep.Kills, rep.WorkersStarted)
	}
	if len(rep.WorkerErrors) > 0 {
		t.Errorf("worker errors: %q", rep.WorkerErrors)
	}
}

func TestStressUnguardedMixedProtocolsVerdict(t *testing.T) {
	if _, err := exec.LookPath(stressGoTool); err != nil {
		t.Skip("the go tool is needed to build a sqlite3_flock worker")
	}
	code, rep := runStressJSON(t, "-guard", "off", "-duration", "2s", "-workers", "3", "-flock-workers", "1",
		"-fallback-rate", "0.5", "-delete-rate", "0.05", "-kill-interval", "0")
	t.Logf("report: integrity %q, lost %d, overlaps %d, acked %d, safe %v", rep.Integrity, rep.Lost, rep.Overlaps, rep.Acked, rep.Safe)
	if rep.Guard {
		t.Fatal("report says the guard was on")
	}
	wantSafe := rep.Integrity == "ok" && rep.Lost == 0 && rep.Overlaps == 0
	if rep.Safe != wantSafe {
		t.Errorf("safe %v, want %v", rep.Safe, wantSafe)
	}
	wantCode := exitOK
	if rep.Integrity != "ok" || rep.Lost > 0 {
		wantCode = exitFound
	}
	if code != wantCode {
		t.Errorf("exit %d, want %d for integrity %q and %d lost", code, wantCode, rep.Integrity, rep.Lost)
	}
	if !rep.Safe && !rep.Kept {
		t.Error("an unsafe run removed its database")
	}
}

func TestStressFlags(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"help", []string{"-h"}, exitOK, "usage: walguard stress", ""},
		{"bad guard", []string{"-guard", "maybe"}, exitUsage, "", "-guard must be on or off"},
		{"zero workers", []string{"-workers", "0"}, exitUsage, "", "-workers must be at least 1"},
		{"too many flock", []string{"-workers", "2", "-flock-workers", "3"}, exitUsage, "", "-flock-workers must be between"},
		{"fault rate", []string{"-fault-rate", "1"}, exitUsage, "", "-fault-rate must be in"},
		{"duration", []string{"-duration", "0s"}, exitUsage, "", "-duration must be positive"},
		{"argument", []string{"extra"}, exitUsage, "", "unexpected arguments"},
		{"unknown flag", []string{"-frob"}, exitUsage, "", "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"stress"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
					code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
}

func TestFamilyOverlaps(t *testing.T) {
	type commit struct {
		worker     int64
		mode       string
		start, end int64
	}
	for _, tc := range []struct {
		name    string
		commits []commit
		want    int
	}{
		{"one family", []commit{{1, "wal", 0, 10}, {2, "wal", 5, 15}}, 0},
		{"different families, disjoint", []commit{{1, "wal", 0, 10}, {2, "delete", 11, 15}}, 0},
		{"different families, overlapping", []commit{{1, "wal", 0, 10}, {2, "delete", 5, 15}}, 1},
		{"a run spans its commits", []commit{{1, "wal", 0, 1}, {2, "delete", 5, 6}, {1, "wal", 9, 10}}, 1},
		{"a worker switching is no overlap", []commit{{1, "wal", 0, 10}, {1, "delete", 5, 15}}, 0},
		{"run ends at a switch", []commit{{1, "wal", 0, 1}, {1, "delete", 2, 3}, {2, "delete", 4, 5}, {1, "wal", 6, 7}}, 0},
		{"truncate counts as rollback", []commit{{1, "truncate", 0, 10}, {2, "delete", 5, 15}, {3, "wal", 12, 20}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var runs familyRuns
			for _, c := range tc.commits {
				runs.commit(c.worker, familyOf(c.mode), c.start, c.end)
			}
			if got := runs.overlaps(); got != tc.want {
				t.Fatalf("overlaps = %d, want %d", got, tc.want)
			}
		})
	}
}
