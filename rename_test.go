package walguard_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/walguard/walguard"
	"github.com/walguard/walguard/internal/sqlrow"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/policy"
)

func init() {
	childRoles["walrenamed"] = childWALRenamed
}

// childWALRenamed holds WG_DB open in WAL through walguard: it inserts a
// row and prints "ready", then for every line inserts one more row and
// checkpoints (so its commits reach the file even though SQLite skips the
// checkpoint at close once the file has moved), printing "ack N".
func childWALRenamed() {
	c := childOpen("file:" + os.Getenv("WG_DB") + "?vfs=walguard")
	defer c.Close()
	if err := c.Exec("INSERT INTO t VALUES('renamed', 0)"); err != nil {
		childFatal("insert: %v", err)
	}
	fmt.Println("ready")
	for i := 1; testproc.ReadLine() != ""; i++ {
		if err := c.Exec(fmt.Sprintf("INSERT INTO t VALUES('renamed', %d); PRAGMA wal_checkpoint(TRUNCATE)", i)); err != nil {
			childFatal("insert %d: %v", i, err)
		}
		fmt.Println("ack", i)
	}
}

// Invariant 9, a second name: a WAL database renamed (or linked under a
// new name and unlinked from the old one) while a writer has it open. The
// writer keeps appending to the old name's -wal (SQLite's moved-file check
// does not stop WAL commits), so a connection through the new name, with
// a -wal and -shm of its own, would read without the writer's commits and
// append to a second WAL of the same file: acknowledged rows are lost
// without an error. Its WAL join is refused (retryable) while the writer
// is live, and once it has closed every acknowledged row is there.
func TestWALDatabaseRenamedWhileOpen(t *testing.T) {
	for _, how := range []string{"rename", "link and unlink"} {
		t.Run(how, func(t *testing.T) {
			old := startDatabase(t, "wal")
			writer := testproc.Start(t, os.Args[0], "walrenamed", "WG_DB="+old)
			writer.Expect("ready")
			renamed := filepath.Join(filepath.Dir(old), "renamed.db")
			if how == "rename" {
				if err := os.Rename(old, renamed); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := os.Link(old, renamed); err != nil {
					t.Fatal(err)
				}
				if err := os.Remove(old); err != nil {
					t.Fatal(err)
				}
			}

			c := sqltest.OpenWaiting(t, sqltest.DSN(renamed, walguard.VFSName))
			c.BusyTimeout(0)
			got, err := sqlrow.Text(c, "SELECT count(*) FROM t")
			if err == nil {
				t.Fatalf("a connection through the new name read %s rows beside a live WAL writer through the old one", got)
			}
			if r := walguard.Default.LastRefusal(renamed); r == nil || r.Reason != policy.ReasonFamilyMismatch || !r.Retryable() {
				t.Fatalf("read beside the writer through the old name: %v, last refusal %v; want a retryable refusal", err, r)
			}
			if err := c.Exec("INSERT INTO t VALUES('new name', 1)"); err == nil {
				t.Fatal("a connection through the new name wrote beside a live WAL writer through the old one")
			}
			writer.Send("go")
			writer.Expect("ack 1")
			writer.Send("")
			if _, err := writer.Wait(); err != nil {
				t.Fatal(err)
			}

			sqltest.Exec(t, c, "INSERT INTO t VALUES('new name', 1)")
			if got := sqltest.Query(t, c, "SELECT count(*) FROM t WHERE writer = 'renamed'"); got != "2" {
				t.Fatalf("%s acknowledged rows of the writer through the old name are there, want 2", got)
			}
			if got := sqltest.Query(t, c, "PRAGMA integrity_check"); got != "ok" {
				t.Fatalf("integrity_check: %s", got)
			}
			c.Close()
		})
	}
}
