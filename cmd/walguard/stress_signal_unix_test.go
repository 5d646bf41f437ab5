//go:build unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/walguard/walguard/internal/testproc"
)

// An interrupt or SIGTERM stops a run early: the command, a real process
// with real workers, prints the report of the run so far with its
// verdict, exits 3 and removes its temporary directory.
func TestStressInterruptReportsAndCleansUp(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) { testStressStoppedBy(t, sig) })
	}
}

func testStressStoppedBy(t *testing.T, sig os.Signal) {
	dir := t.TempDir()
	args := strings.Join([]string{"stress", "-dir", dir, "-duration", "10m", "-workers", "2", "-kill-interval", "0"}, "\n")
	c := testproc.Start(t, os.Args[0], "cli", "WALGUARD_TEST_CLI_ARGS="+args)
	start := c.Expect("walguard stress: 2 workers for 10m0s on ")
	db := strings.TrimSuffix(strings.SplitN(start, " on ", 2)[1], " (interrupt to stop early and report)")
	if filepath.Dir(filepath.Dir(db)) != mustEval(t, dir) {
		t.Fatalf("start line %q: database not under -dir %s", start, dir)
	}
	p, err := os.FindProcess(c.Pid())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(sig); err != nil {
		t.Fatal(err)
	}
	lines, err := c.Wait()
	out := strings.Join(lines, "\n")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitStressInterrupted {
		t.Errorf("exit %v, want code %d; output:\n%s", err, exitStressInterrupted, out)
	}
	for _, want := range []string{"interrupted (" + sig.String() + ") after ", "database: " + db + " (removed)", "integrity", "SAFE: ", "(so far: interrupted)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("after the interrupt %s still holds %v", dir, left)
	}
}

func mustEval(t *testing.T, dir string) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
