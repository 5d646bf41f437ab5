package lockcheck_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard"
	"github.com/walguard/walguard/lockcheck"
	"github.com/walguard/walguard/policy"
)

// TestInspectWalguardConnections: two live walguard connections on a WAL
// database are consistent, and both show as participants of this host.
func TestInspectWalguardConnections(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "app.db")
	for i := range 2 {
		c, err := sqlite3.Open("file:" + path + "?vfs=" + walguard.VFSName)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.BusyTimeout(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		sql := "SELECT * FROM t"
		if i == 0 {
			sql = "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES(1)"
		}
		if err := c.Exec(sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	r, err := lockcheck.Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != lockcheck.VerdictConsistent || len(r.Hazards) != 0 {
		t.Fatalf("verdict %q, hazards %+v", r.Verdict, r.Hazards)
	}
	s := r.Sidecar
	if s.Record == nil || s.Record.Family != policy.FamilyWAL || len(s.Participants) != 1 {
		t.Fatalf("sidecar: record %v, %d participants, want this process (its two connections share a slot)", s.Record, len(s.Participants))
	}
	for _, p := range s.Participants {
		if p.Entry == nil || p.Entry.Host != r.Host || p.Entry.Protocol != policy.ProtocolOFD {
			t.Fatalf("participant %+v, this host %q", p, r.Host)
		}
	}
	if r.Header.Family != policy.FamilyWAL || r.WAL.Checkpoint != lockcheck.CheckpointPending {
		t.Fatalf("header family %s, checkpoint %q", r.Header.Family, r.WAL.Checkpoint)
	}
}
