package vfs_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/errclass"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

// PRAGMA journal_mode is decided before SQLite acts on it, between two
// connections of one process as between processes: a change of family is
// refused while the other connection holds the current one, with a message
// that says why, and allowed once it is gone.
func TestJournalModeDecisions(t *testing.T) {
	for _, tc := range []struct {
		name       string
		from, to   string
		reason     policy.Reason
		headerFrom byte
	}{
		{"leave WAL while WAL in use", "wal", "delete", policy.ReasonDowngradeWhileWAL, 2},
		{"enter WAL while rollback writers live", "delete", "wal", policy.ReasonUpgradeWhileLive, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name, g := registerTestVFS(t, wgvfs.Options{})
			path := tempDB(t)
			holder := openConn(t, dsn(path, name))
			mustQuery(t, holder, "PRAGMA journal_mode="+tc.from)
			mustExec(t, holder, "CREATE TABLE t(x); INSERT INTO t VALUES(1)") // holds the family from now on

			c := openConn(t, dsn(path, name))
			c.BusyTimeout(0) // a refusal waits for the busy timeout first
			_, err := queryText(c, "PRAGMA journal_mode="+tc.to)
			if !errors.Is(err, sqlite3.BUSY) || !strings.Contains(err.Error(), tc.reason.String()) ||
				!strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "journal_mode="+tc.to) {
				t.Fatalf("journal_mode=%s = %v, want a BUSY refusal naming the database, the operation and %q", tc.to, err, tc.reason)
			}
			if errclass.Classify(err) != policy.ClassMismatch {
				t.Fatalf("Classify = %v, want mismatch", errclass.Classify(err))
			}
			if r := g.LastRefusal(path); r == nil || r.Reason != tc.reason || r.Op != "journal_mode="+tc.to {
				t.Fatalf("last refusal %+v, want %q", r, tc.reason)
			}
			if headerFamilyByte(t, path) != tc.headerFrom {
				t.Fatal("the refused pragma changed the header")
			}

			holder.Close()
			reason := policy.ReasonPragma
			if tc.from == "wal" {
				// Alone, leaving WAL is still refused: it is deliberate.
				if _, err := queryText(c, "PRAGMA journal_mode="+tc.to); err == nil || !strings.Contains(err.Error(), policy.ReasonLeaveWAL.String()) {
					t.Fatalf("journal_mode=%s alone = %v, want refused as not deliberate", tc.to, err)
				}
				c.Close()
				if err := g.SetJournalMode(t.Context(), path, policy.ModeDelete); err != nil {
					t.Fatal(err)
				}
				c = openConn(t, dsn(path, name))
				reason = policy.ReasonOperator
			} else if got := mustQuery(t, c, "PRAGMA journal_mode="+tc.to); got != tc.to {
				t.Fatalf("journal_mode=%s alone = %q", tc.to, got)
			}
			mustExec(t, c, "INSERT INTO t VALUES(2)")
			st, err := g.Status(path)
			if err != nil || st.Sidecar.Record == nil || st.Sidecar.Record.Mode.String() != tc.to || st.Sidecar.Record.Reason != reason {
				t.Fatalf("record %+v (%v), want mode %s set by %s", st.Sidecar.Record, err, tc.to, reason)
			}
		})
	}
}

// Agreeing connections are never refused (invariant 8): asking for the
// mode already agreed, or for another mode of the same family, goes
// through while others are live.
func TestJournalModeWithinFamilyAllowed(t *testing.T) {
	name, g := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	a := openConn(t, dsn(path, name))
	mustQuery(t, a, "PRAGMA journal_mode=delete")
	mustExec(t, a, "CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	b := openConn(t, dsn(path, name))
	for _, mode := range []string{"delete", "truncate", "persist"} {
		if got := mustQuery(t, b, "PRAGMA journal_mode="+mode); got != mode {
			t.Fatalf("journal_mode=%s = %q", mode, got)
		}
		mustExec(t, b, "INSERT INTO t VALUES(2)")
	}
	if n := len(g.Stats().Refusals); n != 0 {
		t.Fatalf("refusals %v, want none", g.Stats().Refusals)
	}
}

// PRAGMA walguard_status answers what Status returns, as JSON.
func TestStatusPragma(t *testing.T) {
	name, g := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	a := openConn(t, dsn(path, name))
	mustExec(t, a, "PRAGMA journal_mode=wal; CREATE TABLE t(x)")
	b := openConn(t, dsn(path, name))
	b.BusyTimeout(0)
	queryText(b, "PRAGMA journal_mode=delete") // a refusal, for last_refusal

	var got struct {
		DB      string
		Sidecar struct {
			Schema       int
			Path         string
			Participants []any
		}
		FileSystem  string
		LastRefusal *wgvfs.RefusalStatus `json:"last_refusal"`
		Stats       wgvfs.Stats
	}
	raw := mustQuery(t, a, "PRAGMA "+wgvfs.StatusPragma)
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	want, err := g.Status(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.DB != path || got.Sidecar.Schema != sidecar.StatusSchema || got.Sidecar.Path != sidecar.SidecarPath(path) ||
		len(got.Sidecar.Participants) != 1 || got.FileSystem != want.FileSystem {
		t.Fatalf("pragma answered %s", raw)
	}
	if got.LastRefusal == nil || *got.LastRefusal != *want.LastRefusal || got.LastRefusal.Reason != policy.ReasonDowngradeWhileWAL.String() ||
		!got.LastRefusal.Retryable || got.LastRefusal.Class != policy.ClassMismatch.String() {
		t.Fatalf("last_refusal %+v, want %+v", got.LastRefusal, want.LastRefusal)
	}
	if got.Stats.Refusals[policy.ReasonDowngradeWhileWAL.String()] != 1 || got.Stats.Opens != 2 {
		t.Fatalf("stats %+v", got.Stats)
	}
}
