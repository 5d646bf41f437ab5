package walguard_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/walguard/walguard"
	"github.com/walguard/walguard/internal/sqlrow"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
)

// Point 4: every spelling SQLite accepts for a journal mode (a prefix, any
// case, quoted, empty, schema-qualified) passes walguard's gate. The table
// holds each spelling against what SQLite itself does on the os VFS: where
// SQLite keeps the family, walguard answers as SQLite does; where SQLite
// enters WAL alone, so does walguard, and beside a live rollback writer it
// refuses; where SQLite leaves WAL, walguard refuses (leaving is
// deliberate) and the header stays WAL.
func TestJournalModeSpellingsAgainstSQLite(t *testing.T) {
	spellings := []string{
		"", // a query: PRAGMA journal_mode
		"=wal", "=WAL", "=Wa", "=w", "='wal'", `="wA"`, "=[W]",
		"=''", "=d", "=DELETE", "='De'", "=t", "=trunc", "=P", "=m", "=o", "=OFF",
		"=wall", "='  wal'", "=x", "=0", "=-1",
		"(wa)", "(d)",
	}
	for _, start := range []string{"delete", "wal"} {
		for _, sp := range spellings {
			pragma := "PRAGMA journal_mode" + sp
			t.Run(start+" "+pragma, func(t *testing.T) {
				osWant, osHeader := journalModeOn(t, start, pragma, "os")
				startHeader := byte(1)
				if start == "wal" {
					startHeader = 2
				}
				path := startDatabase(t, start)
				c := sqltest.OpenWaiting(t, sqltest.DSN(path, walguard.VFSName))
				c.BusyTimeout(0)
				var got string
				var err error
				if osHeader == startHeader {
					got, err = sqlrow.Text(c, pragma)
				} else {
					// A change commits when the statement ends: Exec
					// reports what reading one row would hide.
					got, err = "wal", c.Exec(pragma)
				}
				c.Close()
				header := sqltest.HeaderFamily(t, path)
				switch {
				case osHeader == startHeader:
					if err != nil || got != osWant || header != startHeader {
						t.Fatalf("walguard: %q, %v, header %d; SQLite on os: %q, header %d", got, err, header, osWant, osHeader)
					}
				case osHeader == 2:
					if err != nil || got != "wal" || header != 2 {
						t.Fatalf("walguard alone: %q, %v, header %d; SQLite on os enters WAL", got, err, header)
					}
				default:
					if err == nil || header != 2 {
						t.Fatalf("walguard: %q, %v, header %d; SQLite on os leaves WAL, walguard must refuse", got, err, header)
					}
				}

				if start != "delete" || osHeader != 2 {
					return
				}
				// The same spelling beside a live rollback writer is refused.
				path = startDatabase(t, start)
				idle := testproc.Start(t, os.Args[0], "rollbackidle", "WG_DB="+path)
				idle.Expect("ready")
				c = sqltest.OpenWaiting(t, sqltest.DSN(path, walguard.VFSName))
				c.BusyTimeout(0)
				if err := c.Exec(pragma); err == nil || sqltest.HeaderFamily(t, path) != 1 {
					t.Fatalf("beside a rollback writer: %v, header %d; want refused", err, sqltest.HeaderFamily(t, path))
				}
				c.Close()
				if _, err := idle.Wait(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// Point 4 for attached databases: a schema-qualified pragma reaches the
// attached database's file, an unqualified one only the main database's,
// yet SQLite applies it to every attached database: both meet the gate.
func TestJournalModeOfAttachedDatabases(t *testing.T) {
	for _, tc := range []struct {
		name, pragma string
	}{
		{"qualified", "PRAGMA aux.journal_mode=d"},
		{"qualified, quoted", `PRAGMA "aux".journal_mode='DELETE'`},
		{"unqualified", "PRAGMA journal_mode=delete"},
		{"unqualified, empty", "PRAGMA journal_mode=''"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			main := startDatabase(t, "delete")
			aux := startDatabase(t, "wal")
			c := sqltest.OpenWaiting(t, sqltest.DSN(main, walguard.VFSName))
			c.BusyTimeout(0)
			sqltest.Exec(t, c, fmt.Sprintf("ATTACH 'file:%s?vfs=walguard' AS aux", aux))
			if err := c.Exec(tc.pragma); err == nil {
				t.Fatalf("%s left WAL on the attached database without a word", tc.pragma)
			}
			if got := sqltest.HeaderFamily(t, aux); got != 2 {
				t.Fatalf("attached database header %d after %s, want WAL kept", got, tc.pragma)
			}
			sqltest.Exec(t, c, "INSERT INTO aux.t VALUES('after', 1)")
			if got := sqltest.Query(t, c, "PRAGMA aux.journal_mode"); got != "wal" {
				t.Fatalf("aux.journal_mode = %s after the refusal, want wal", got)
			}
		})
	}

	// Entering WAL on an attached database beside one of its rollback
	// writers, by an unqualified pragma the attached file never sees.
	main := startDatabase(t, "delete")
	aux := startDatabase(t, "delete")
	idle := testproc.Start(t, os.Args[0], "rollbackidle", "WG_DB="+aux)
	idle.Expect("ready")
	c := sqltest.OpenWaiting(t, sqltest.DSN(main, walguard.VFSName))
	c.BusyTimeout(0)
	sqltest.Exec(t, c, fmt.Sprintf("ATTACH 'file:%s?vfs=walguard' AS aux", aux))
	if err := c.Exec("PRAGMA journal_mode=wa"); err == nil {
		t.Fatal("an unqualified journal_mode=wa entered WAL on an attached database beside its rollback writer")
	}
	if got := sqltest.HeaderFamily(t, aux); got != 1 {
		t.Fatalf("attached database header %d, want rollback kept beside its rollback writer", got)
	}
	c.Close()
	if _, err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
}

// startDatabase creates a database with table t in the given mode,
// through the os VFS.
func startDatabase(t *testing.T, mode string) string {
	t.Helper()
	path := sqltest.TempDB(t)
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, "os"))
	sqltest.Query(t, c, "PRAGMA journal_mode="+mode)
	sqltest.Exec(t, c, "CREATE TABLE t(writer TEXT, seq INT)")
	c.Close()
	return path
}

// journalModeOn runs pragma on a fresh database in mode start through
// vfsName and returns its answer and the header family byte afterwards.
func journalModeOn(t *testing.T, start, pragma, vfsName string) (string, byte) {
	t.Helper()
	path := startDatabase(t, start)
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, vfsName))
	got, err := sqlrow.Text(c, pragma)
	if err != nil {
		t.Fatalf("%s on %s: %v", pragma, vfsName, err)
	}
	c.Close()
	return strings.TrimSpace(got), sqltest.HeaderFamily(t, path)
}
