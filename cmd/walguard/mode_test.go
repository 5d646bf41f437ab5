package main

import (
	"os"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

// walguard mode is the deliberate way to leave WAL: it refuses while
// another connection is open, changes the mode alone, and records the
// operator as the reason; without a mode it prints the header and record.
func TestModeCommand(t *testing.T) {
	path := newDB(t, false, "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	name := sqltest.Register(t, wgvfs.New(wgvfs.Options{}))
	c, err := sqlite3.Open(sqltest.DSN(path, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Exec("SELECT * FROM t"); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("mode", "-wait", "50ms", path, "delete")
	if code != exitFound || !strings.Contains(stderr, policy.ReasonOthersLive.String()) || !strings.Contains(stderr, "pid ") {
		t.Fatalf("mode delete beside an open connection: exit %d, %q; want refused naming who is in the way", code, stderr)
	}
	if sqltest.HeaderFamily(t, path) != 2 {
		t.Fatal("the refused mode change touched the header")
	}
	c.Close()

	code, stdout, stderr := runCLI("mode", path, "delete")
	if code != exitOK || !strings.Contains(stdout, "journal_mode=delete") {
		t.Fatalf("mode delete alone: exit %d, %q, %q", code, stdout, stderr)
	}
	snap, err := sidecar.ReadSnapshot(path)
	if err != nil || snap.Record.Reason != policy.ReasonOperator || snap.Record.Mode != policy.ModeDelete ||
		snap.Record.SetterPID != uint32(os.Getpid()) || sqltest.HeaderFamily(t, path) != 1 {
		t.Fatalf("record %v (%v), header %d; want delete set by the operator", snap.Record, err, sqltest.HeaderFamily(t, path))
	}
	code, stdout, _ = runCLI("mode", path)
	if code != exitOK || !strings.Contains(stdout, "header  rollback") || !strings.Contains(stdout, "operator") {
		t.Fatalf("mode without a mode: exit %d, %q", code, stdout)
	}
	for _, args := range [][]string{{"mode"}, {"mode", path, "wall"}, {"mode", path + ".missing"}, {"mode", path, "wal", "extra"}} {
		if code, _, _ := runCLI(args...); code != exitUsage {
			t.Fatalf("%q: exit %d, want usage", args, code)
		}
	}
}
