package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/walguard/walguard/internal/testproc"
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
	testproc.Dispatch(map[string]func(){"cli": cliChild})
	os.Exit(testproc.RunInPrivateTemp(m.Run))
}

// cliChild runs the command as a process of its own: its arguments are the
// lines of WALGUARD_TEST_CLI_ARGS, its stderr goes to stdout so that the
// parent can wait for its lines, and it exits with the command's code.
func cliChild() {
	args := strings.Split(os.Getenv("WALGUARD_TEST_CLI_ARGS"), "\n")
	os.Exit(run(args, os.Stdout, os.Stdout))
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
	// A high fault rate, so that faults are injected even when a loaded
	// machine lets the workers run only a few hundred operations.
	code, rep := runStressJSON(t, "-duration", "2s", "-workers", "3", "-kill-interval", "300ms", "-seed", "7", "-fault-rate", "0.1")
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

// Writers that reconnect for every transaction (nobody holds their
// declarations between transactions), shared-memory faults that no VFS
// can intercept (strace fails lseek and fallocate on the -shm), the
// fallback routine and plain DELETEs: through walguard the run stays safe,
// never leaves WAL by accident, and counts deliberate mode changes apart
// from refused ones.
func TestStressReconnectingWritersAndSharedMemoryFaultsSafe(t *testing.T) {
	if _, err := exec.LookPath("strace"); err != nil {
		t.Fatal("strace is needed to inject shared-memory faults (.ci/run installs it)")
	}
	code, rep := runStressJSON(t, "-duration", "3s", "-workers", "3", "-shm-fault-workers", "2", "-reconnect-rate", "1",
		"-fallback-rate", "1", "-delete-rate", "0.05", "-kill-interval", "700ms", "-seed", "9", "-fault-rate", "0.05")
	t.Logf("report: commits %d %v, reconnects %d, shm faults %d, deliberate %d/%d refused, refusals %v, overlaps %d, integrity %q, lost %d",
		rep.Commits, rep.FamilyWrites, rep.Reconnects, rep.ShmFaults, rep.Deliberate, rep.DeliberateRefused, rep.Refusals, rep.Overlaps, rep.Integrity, rep.Lost)
	if !rep.Safe || code != exitOK {
		t.Errorf("safe %v, exit %d (overlaps %d, integrity %q, lost %d, worker errors %q)", rep.Safe, code, rep.Overlaps, rep.Integrity, rep.Lost, rep.WorkerErrors)
	}
	if rep.Reconnects == 0 || rep.ShmFaults == 0 || rep.Acked == 0 {
		t.Errorf("reconnects %d, shm faults %d, acked %d: the run did not exercise what it claims", rep.Reconnects, rep.ShmFaults, rep.Acked)
	}
	if rep.DeleteAccepted != 0 {
		t.Errorf("%d plain DELETEs accepted: through walguard only the deliberate way leaves WAL", rep.DeleteAccepted)
	}
	if rep.DeleteAttempts > 0 && rep.Deliberate+rep.DeliberateRefused == 0 {
		t.Errorf("%d DELETEs tried, no deliberate change counted", rep.DeleteAttempts)
	}
}

// The minimal configuration that gave a false UNSAFE when a transaction's
// start was stamped before BEGIN IMMEDIATE: the flock worker, refused while
// the other is live, waits for the lock while the other writes its
// rollback transaction. Run from a directory outside the module: the flock
// worker is built from the running binary's own source.
func TestStressGuardedFlockWorkersSafe(t *testing.T) {
	if _, err := exec.LookPath(stressGoTool); err != nil {
		t.Skip("the go tool is needed to build a sqlite3_flock worker")
	}
	t.Chdir(t.TempDir())
	code, rep := runStressJSON(t, "-workers", "2", "-flock-workers", "1", "-kill-interval", "0",
		"-fault-rate", "0", "-fallback-rate", "0", "-duration", "3s", "-seed", "11")
	t.Logf("report: commits %d %v, refusals %v, overlaps %d, integrity %q, lost %d",
		rep.Commits, rep.FamilyWrites, rep.Refusals, rep.Overlaps, rep.Integrity, rep.Lost)
	if !rep.Safe || code != exitOK {
		t.Errorf("safe %v, exit %d; want a safe run and exit %d (overlaps %d, integrity %q, lost %d, worker errors %q)",
			rep.Safe, code, exitOK, rep.Overlaps, rep.Integrity, rep.Lost, rep.WorkerErrors)
	}
	// The run must have mixed both families and both protocols, or it
	// proved nothing about overlaps.
	if rep.FamilyWrites["rollback"] == 0 || rep.FamilyWrites["wal"] == 0 {
		t.Errorf("commits by family %v: want both wal and rollback commits", rep.FamilyWrites)
	}
	if rep.Refusals["locking protocol mismatch"] == 0 {
		t.Errorf("refusals %v: want the flock worker refused while the other is live", rep.Refusals)
	}
}

// A setup that fails (no go tool for -flock-workers, or no source to
// build from) says what is missing in one sentence and leaves nothing.
func TestStressFailedSetupLeavesNothing(t *testing.T) {
	noSource := func() string { return filepath.Join(t.TempDir(), "gone") }
	for _, tc := range []struct {
		name    string
		gotool  string
		source  func() string
		message string
	}{
		{"no go tool", "no-such-go-tool", nil, "needs the go tool, which is not in PATH"},
		{"no source", "", noSource, "needs the source of this walguard"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.gotool != "" {
				old := stressGoTool
				stressGoTool = tc.gotool
				t.Cleanup(func() { stressGoTool = old })
			} else if _, err := exec.LookPath(stressGoTool); err != nil {
				t.Skip("the go tool is needed to reach the source check")
			}
			if tc.source != nil {
				old := stressSourceDir
				stressSourceDir = tc.source
				t.Cleanup(func() { stressSourceDir = old })
			}
			dir := t.TempDir()
			code, stdout, stderr := runCLI("stress", "-dir", dir, "-flock-workers", "1", "-duration", "1s")
			if code != exitUsage || !strings.Contains(stderr, tc.message) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want exit %d and one line with %q", code, stderr, exitUsage, tc.message)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("the failed setup left %v in %s", left, dir)
			}
		})
	}
}

func TestSummarizeIntegrity(t *testing.T) {
	for _, tc := range []struct {
		rows     []string
		want     string
		problems int
	}{
		{[]string{"ok"}, "ok", 0},
		{[]string{"*** in database main ***\nPage 5: never used"}, "Page 5: never used", 1},
		{[]string{"*** in database main ***\nOn tree page 2 cell 0: invalid page number 99\nPage 5: never used", "row 3 missing from index i"},
			"3 problems, the first: On tree page 2 cell 0: invalid page number 99", 3},
		{nil, "integrity_check returned no rows", 0},
	} {
		got, n := summarizeIntegrity(tc.rows)
		if got != tc.want || n != tc.problems || strings.Contains(got, "\n") {
			t.Errorf("summarizeIntegrity(%q) = %q, %d; want %q, %d", tc.rows, got, n, tc.want, tc.problems)
		}
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
	wantSafe := rep.Integrity == "ok" && rep.Lost == 0 && rep.Overlaps == 0 && rep.Downgrades == 0
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
		{"help lists every flag", []string{"-h"}, exitOK, "-delete-rate P", ""},
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
		{"a run ends when its connection closes", []commit{{1, "wal", 0, 1}, {1, "closed", 0, 0}, {2, "delete", 5, 6}, {1, "wal", 9, 10}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var runs familyRuns
			for _, c := range tc.commits {
				if c.mode == "closed" {
					runs.close(c.worker)
					continue
				}
				runs.commit(c.worker, familyOf(c.mode), c.start, c.end)
			}
			if got := runs.overlaps(); got != tc.want {
				t.Fatalf("overlaps = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestSameBuild(t *testing.T) {
	build := func(version, revision string, deps ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Path: "github.com/walguard/walguard/cmd/walguard",
			Main: debug.Module{Path: "github.com/walguard/walguard", Version: version}}
		if revision != "" {
			bi.Settings = []debug.BuildSetting{{Key: "vcs.revision", Value: revision}, {Key: "vcs.modified", Value: "false"}}
		}
		for _, d := range deps {
			path, v, _ := strings.Cut(d, "@")
			bi.Deps = append(bi.Deps, &debug.Module{Path: path, Version: v})
		}
		return bi
	}
	for _, tc := range []struct {
		name      string
		want, got *debug.BuildInfo
		same      bool
	}{
		{"identical", build("v1.2.0", "abc", "x@v1"), build("v1.2.0", "abc", "x@v1"), true},
		{"other version", build("v1.2.0", "", "x@v1"), build("v1.3.0", "", "x@v1"), false},
		{"other revision", build("v0.0.0-1-abc", "abc"), build("v0.0.0-1-abc", "def"), false},
		{"other dependency version", build("v1.2.0", "", "x@v1"), build("v1.2.0", "", "x@v2"), false},
		{"a test binary's extra dependency", build("(devel)", "", "x@v1", "y@v1"), build("v0.0.0-2-abc+dirty", "", "x@v1"), true},
	} {
		if got := sameBuild(tc.want, tc.got); (got == "") != tc.same {
			t.Errorf("%s: sameBuild = %q, want same %v", tc.name, got, tc.same)
		}
	}
}
