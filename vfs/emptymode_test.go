package vfs_test

import (
	"testing"

	"github.com/walguard/walguard/faultvfs"
	"github.com/walguard/walguard/policy"
	wgvfs "github.com/walguard/walguard/vfs"
)

// Invariant 4 for the one spelling the pragma gate cannot see: an empty
// journal_mode value (PRAGMA journal_mode="") is DELETE to SQLite, but the
// VFS cannot tell it from a query. Leaving WAL that way must be refused
// before SQLite writes a byte of the rollback journal it opens to write
// the header, not at the header write after the journal holds page 1.
func TestEmptyJournalModeLeavingWALRefusedBeforeTheJournal(t *testing.T) {
	path := walDatabase(t)
	fv, _, guarded, g := faultyPair(t, 1)
	// A rule that lets every call through counts the -journal's opens and writes.
	fv.Add(faultvfs.Rule{Name: "journal", Ops: faultvfs.OpWrite | faultvfs.OpOpen, Kinds: faultvfs.KindJournal, Skip: 1 << 30})
	c := openConn(t, dsn(path, guarded))
	c.BusyTimeout(0)
	mustQuery(t, c, "SELECT x FROM t")
	err := c.Exec("PRAGMA journal_mode=''")
	if r := g.LastRefusal(path); err == nil || r == nil || r.Reason != policy.ReasonLeaveWAL {
		t.Fatalf("journal_mode='' on a WAL database = %v (last refusal %v), want refused as %q", err, r, policy.ReasonLeaveWAL)
	}
	if r, _ := fv.Stats().Rule("journal"); r.Matched != 0 {
		t.Fatalf("the refused journal_mode='' (%v) reached the rollback journal %d times (opens and writes); want none", err, r.Matched)
	}
	if got := headerFamilyByte(t, path); got != 2 {
		t.Fatalf("header %d, want WAL kept", got)
	}
	mustExec(t, c, "INSERT INTO t VALUES(2)")
	if got := mustQuery(t, c, "PRAGMA journal_mode"); got != "wal" {
		t.Fatalf("journal_mode %s after the refusal, want wal", got)
	}
}

// A journal_mode approved once within the rollback family stays approved
// on its connection; when the database has gone WAL since (another
// connection switched it), an empty value must still meet the gate, not
// pass for that old approval.
func TestEmptyJournalModeAfterAnOldRollbackApproval(t *testing.T) {
	path := tempDB(t)
	createTable(t, path, "delete")
	name, g := registerTestVFS(t, wgvfs.Options{})
	c := openConn(t, dsn(path, name))
	c.BusyTimeout(0)
	if got := mustQuery(t, c, "PRAGMA journal_mode=delete"); got != "delete" {
		t.Fatalf("journal_mode=delete on a rollback database = %q", got)
	}
	d := openConn(t, dsn(path, name))
	if got := mustQuery(t, d, "PRAGMA journal_mode=wal"); got != "wal" {
		t.Fatalf("journal_mode=wal = %q", got)
	}
	d.Close()
	mustQuery(t, c, "SELECT count(*) FROM t") // c follows the header into WAL
	err := c.Exec("PRAGMA journal_mode=''")
	if got := headerFamilyByte(t, path); got != 2 {
		t.Fatalf("journal_mode='' (%v) left WAL: header %d", err, got)
	}
	if r := g.LastRefusal(path); err == nil || r == nil || r.Reason != policy.ReasonLeaveWAL {
		t.Fatalf("journal_mode='' = %v (last refusal %v), want refused as %q", err, r, policy.ReasonLeaveWAL)
	}
}
