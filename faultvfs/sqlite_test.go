package faultvfs_test

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/faultvfs"
	"github.com/walguard/walguard/internal/sqlrow"
	"github.com/walguard/walguard/internal/sqltest"
)

// runSQL opens a connection and runs sql on it, returning the first error.
func runSQL(name, sql string) error {
	c, err := sqlite3.Open(name)
	if err != nil {
		return err
	}
	defer c.Close()
	if sql == "" {
		return nil
	}
	if err := c.Exec(sql); err != nil {
		return err
	}
	_, err = sqlrow.Text(c, "SELECT count(*) FROM t")
	return err
}

// TestDefaultErrorsReachSQLite checks that every operation's default error
// makes SQLite report the extended code the os VFS gives an EIO there.
func TestDefaultErrorsReachSQLite(t *testing.T) {
	insert := "INSERT INTO t VALUES(2)"
	tests := []struct {
		name string
		mode string // journal mode of the database before the rule
		rule faultvfs.Rule
		hot  bool // leave a -journal file behind, so SQLite checks for a hot journal
		sql  string
		want sqlite3.ExtendedErrorCode
	}{
		{"open main db", "delete", faultvfs.Rule{Ops: faultvfs.OpOpen, Kinds: faultvfs.KindMainDB}, false, "", sqlite3.ExtendedErrorCode(sqlite3.CANTOPEN)},
		{"open journal", "delete", faultvfs.Rule{Ops: faultvfs.OpOpen, Kinds: faultvfs.KindJournal}, false, insert, sqlite3.ExtendedErrorCode(sqlite3.CANTOPEN)},
		{"open wal", "wal", faultvfs.Rule{Ops: faultvfs.OpOpen, Kinds: faultvfs.KindWAL}, false, "SELECT * FROM t", sqlite3.ExtendedErrorCode(sqlite3.CANTOPEN)},
		{"open temp", "delete", faultvfs.Rule{Ops: faultvfs.OpOpen, Kinds: faultvfs.KindTemp}, false,
			"PRAGMA temp_store=file; PRAGMA temp.cache_size=10; CREATE TEMP TABLE x(y); INSERT INTO x SELECT randomblob(1000) FROM generate_series(1,100)",
			sqlite3.ExtendedErrorCode(sqlite3.CANTOPEN)},
		{"open super-journal", "delete", faultvfs.Rule{Ops: faultvfs.OpOpen, Kinds: faultvfs.KindSuperJournal}, false,
			"ATTACH 'file:' || (SELECT file FROM pragma_database_list WHERE name='main') || '2' AS o; CREATE TABLE IF NOT EXISTS o.u(x); BEGIN; INSERT INTO t VALUES(3); INSERT INTO o.u VALUES(1); COMMIT",
			sqlite3.ExtendedErrorCode(sqlite3.CANTOPEN)},
		{"read main db", "delete", faultvfs.Rule{Ops: faultvfs.OpRead, Kinds: faultvfs.KindMainDB}, false, "SELECT * FROM t", sqlite3.IOERR_READ},
		{"read wal", "wal", faultvfs.Rule{Ops: faultvfs.OpRead, Kinds: faultvfs.KindWAL}, false, insert + "; PRAGMA shrink_memory; SELECT * FROM t", sqlite3.IOERR_READ},
		{"write main db", "delete", faultvfs.Rule{Ops: faultvfs.OpWrite, Kinds: faultvfs.KindMainDB}, false, insert, sqlite3.IOERR_WRITE},
		{"write journal", "delete", faultvfs.Rule{Ops: faultvfs.OpWrite, Kinds: faultvfs.KindJournal}, false, insert, sqlite3.IOERR_WRITE},
		{"write wal", "wal", faultvfs.Rule{Ops: faultvfs.OpWrite, Kinds: faultvfs.KindWAL}, false, insert, sqlite3.IOERR_WRITE},
		{"sync main db", "delete", faultvfs.Rule{Ops: faultvfs.OpSync, Kinds: faultvfs.KindMainDB}, false, insert, sqlite3.IOERR_FSYNC},
		{"sync wal", "wal", faultvfs.Rule{Ops: faultvfs.OpSync, Kinds: faultvfs.KindWAL}, false, "PRAGMA synchronous=full; " + insert, sqlite3.IOERR_FSYNC},
		{"truncate journal", "truncate", faultvfs.Rule{Ops: faultvfs.OpTruncate, Kinds: faultvfs.KindJournal}, false, insert, sqlite3.IOERR_TRUNCATE},
		{"lock main db", "delete", faultvfs.Rule{Ops: faultvfs.OpLock, Kinds: faultvfs.KindMainDB}, false, "SELECT * FROM t", sqlite3.IOERR_LOCK},
		{"unlock main db", "delete", faultvfs.Rule{Ops: faultvfs.OpUnlock, Kinds: faultvfs.KindMainDB}, false, insert, sqlite3.IOERR_UNLOCK},
		{"size main db", "delete", faultvfs.Rule{Ops: faultvfs.OpSize, Kinds: faultvfs.KindMainDB}, false, "SELECT * FROM t", sqlite3.IOERR_FSTAT},
		{"access journal", "delete", faultvfs.Rule{Ops: faultvfs.OpAccess, Kinds: faultvfs.KindJournal}, false, "SELECT * FROM t", sqlite3.IOERR_ACCESS},
		{"delete journal", "delete", faultvfs.Rule{Ops: faultvfs.OpDelete, Kinds: faultvfs.KindJournal}, false, insert, sqlite3.IOERR_DELETE},
		{"check reserved lock", "delete", faultvfs.Rule{Ops: faultvfs.OpCheckReservedLock, Kinds: faultvfs.KindMainDB}, true, "SELECT * FROM t", sqlite3.IOERR_CHECKRESERVEDLOCK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fv, name := register(t, 1)
			path := tempDB(t)
			c := sqltest.Open(t, dsn(path, name))
			sqltest.Exec(t, c, "PRAGMA journal_mode="+tt.mode+"; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if tt.hot {
				if err := os.WriteFile(path+"-journal", nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			sql := tt.sql
			if tt.mode != "delete" && tt.mode != "wal" {
				sql = "PRAGMA journal_mode=" + tt.mode + "; " + sql
			}
			// The same steps succeed without the rule: the rule is the cause.
			if !tt.hot {
				if err := runSQL(dsn(path, name), sql); err != nil {
					t.Fatalf("without the rule: %v", err)
				}
			}

			fv.Add(tt.rule)
			err := runSQL(dsn(path, name), sql)
			var got sqlite3.ExtendedErrorCode
			if !errors.As(err, &got) || got != tt.want {
				t.Fatalf("err = %v (extended code %d), want extended code %d", err, got, tt.want)
			}
			if st := fv.Stats(); st.Injected == 0 || st.Op(tt.rule.Ops).Injected == 0 || st.Kind(tt.rule.Kinds).Injected == 0 {
				t.Fatalf("stats do not show the injection:\n%v", st)
			}
		})
	}
}

// TestOpenErrorKeepsErrno checks the shape of a failed open: CANTOPEN, with
// the injected error (and EIO under it) kept for errors.Is and errors.As.
func TestOpenErrorKeepsErrno(t *testing.T) {
	fv, name := register(t, 1)
	path := tempDB(t)
	fv.Add(faultvfs.Rule{Name: "db-eio", Ops: faultvfs.OpOpen, Kinds: faultvfs.KindMainDB})

	_, err := sqlite3.Open(dsn(path, name))
	if !errors.Is(err, sqlite3.CANTOPEN) {
		t.Fatalf("err = %v, want CANTOPEN", err)
	}
	if !errors.Is(err, syscall.EIO) || !errors.Is(err, faultvfs.ErrInjected) {
		t.Fatalf("err = %v does not unwrap to EIO and ErrInjected", err)
	}
	var inj *faultvfs.InjectedError
	if !errors.As(err, &inj) || inj.Rule != "db-eio" || inj.Op != faultvfs.OpOpen || inj.Kind != faultvfs.KindMainDB || inj.Path != path {
		t.Fatalf("injected error = %+v", inj)
	}
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Op != "open" || pe.Path != path {
		t.Fatalf("path error = %+v", pe)
	}
	want := `faultvfs: rule "db-eio": injected EIO on open of ` + path
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %q, want it to contain %q", err, want)
	}
}

// TestWALOpenFailure documents measurement E2: a one-shot EIO on opening
// -wal fails the statement with CANTOPEN and can leave the connection
// answering "delete" although the header says WAL.
func TestWALOpenFailure(t *testing.T) {
	walRule := faultvfs.Rule{Name: "wal-eio", Ops: faultvfs.OpOpen, Kinds: faultvfs.KindWAL, Count: 1}

	t.Run("pragma fails on a WAL database", func(t *testing.T) {
		fv, name := register(t, 1)
		path := tempDB(t)
		setup := sqltest.Open(t, dsn(path, name))
		sqltest.Exec(t, setup, "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
		if err := setup.Close(); err != nil {
			t.Fatal(err)
		}
		c := sqltest.Open(t, dsn(path, name))
		fv.Add(walRule)

		if err := c.Exec("PRAGMA journal_mode=WAL"); !errors.Is(err, sqlite3.CANTOPEN) {
			t.Fatalf("PRAGMA journal_mode=WAL: %v, want CANTOPEN", err)
		}
		if r, _ := fv.Stats().Rule("wal-eio"); r.Injected != 1 {
			t.Fatalf("rule injected %d times, want 1", r.Injected)
		}
		// The fault was transient: the next statement opens the WAL.
		if got := sqltest.Query(t, c, "PRAGMA journal_mode=WAL"); got != "wal" {
			t.Fatalf("journal_mode after the fault = %q, want wal", got)
		}
	})

	t.Run("switch from rollback reads back delete", func(t *testing.T) {
		fv, name := register(t, 1)
		path := tempDB(t)
		c := sqltest.Open(t, dsn(path, name))
		sqltest.Exec(t, c, "CREATE TABLE t(x); INSERT INTO t VALUES(1)")
		fv.Add(walRule)

		if got := sqltest.Query(t, c, "PRAGMA journal_mode=WAL"); got != "wal" {
			t.Fatalf("PRAGMA journal_mode=WAL = %q, want wal (the WAL opens later)", got)
		}
		if _, err := sqlrow.Text(c, "SELECT x FROM t"); !errors.Is(err, sqlite3.CANTOPEN) {
			t.Fatalf("first statement in WAL: %v, want CANTOPEN", err)
		}
		if got := sqltest.Query(t, c, "PRAGMA journal_mode"); got != "delete" {
			t.Fatalf("journal_mode after the failure = %q, want the misleading \"delete\"", got)
		}
		if h := headerModes(t, path); h != [2]byte{2, 2} {
			t.Fatalf("header bytes 18/19 = %v, want [2 2] (WAL)", h)
		}
	})
}

// headerModes returns bytes 18 and 19 of a database header (1 rollback, 2 WAL).
func headerModes(t *testing.T, path string) [2]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [2]byte
	if _, err := f.ReadAt(b[:], 18); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWALAndMmapThroughWrapper checks that shared memory and memory mapping
// survive the wrapping: WAL works across connections and mmap_size takes.
func TestWALAndMmapThroughWrapper(t *testing.T) {
	_, name := register(t, 1)
	path := tempDB(t)
	c1 := sqltest.Open(t, dsn(path, name))
	if got := sqltest.Query(t, c1, "PRAGMA journal_mode=WAL"); got != "wal" {
		t.Fatalf("journal_mode = %q, want wal", got)
	}
	base := sqltest.Open(t, dsn(tempDB(t), "os"))
	want := sqltest.Query(t, base, "PRAGMA mmap_size=1000000")
	if got := sqltest.Query(t, c1, "PRAGMA mmap_size=1000000"); got != want || want == "" {
		t.Fatalf("mmap_size = %q through the wrapper, %q on the os VFS", got, want)
	}
	sqltest.Exec(t, c1, "CREATE TABLE t(x); INSERT INTO t SELECT value FROM generate_series(1,100)")

	c2 := sqltest.Open(t, dsn(path, name))
	sqltest.Exec(t, c2, "PRAGMA mmap_size=1000000")
	if got := sqltest.Query(t, c2, "SELECT sum(x) FROM t"); got != "5050" {
		t.Fatalf("second connection reads sum %q, want 5050", got)
	}
	sqltest.Exec(t, c2, "INSERT INTO t VALUES(1000)")
	if got := sqltest.Query(t, c1, "SELECT count(*) FROM t"); got != "101" {
		t.Fatalf("first connection reads count %q after the second wrote, want 101", got)
	}
	if _, err := os.Stat(path + "-shm"); err != nil {
		t.Fatalf("no WAL-index file: %v", err)
	}
}

// TestCustomErrorReachesSQLiteAsIs returns SQLITE_BUSY from the lock, which
// SQLite retries through its busy handler (measurement E3).
func TestCustomErrorReachesSQLiteAsIs(t *testing.T) {
	fv, name := register(t, 1)
	path := tempDB(t)
	c := sqltest.Open(t, dsn(path, name, "_pragma=busy_timeout(2000)"))
	sqltest.Exec(t, c, "CREATE TABLE t(x)")
	fv.Add(faultvfs.Rule{Name: "busy", Ops: faultvfs.OpLock, Kinds: faultvfs.KindMainDB, Count: 3, Err: sqlite3.BUSY})

	sqltest.Exec(t, c, "INSERT INTO t VALUES(1)")
	if r, _ := fv.Stats().Rule("busy"); r.Injected != 3 {
		t.Fatalf("busy rule injected %d times, want 3", r.Injected)
	}

	fv.Clear()
	fv.Add(faultvfs.Rule{Name: "busy", Ops: faultvfs.OpLock, Kinds: faultvfs.KindMainDB, Err: sqlite3.BUSY})
	sqltest.Exec(t, c, "PRAGMA busy_timeout=0")
	if err := c.Exec("INSERT INTO t VALUES(2)"); !errors.Is(err, sqlite3.BUSY) {
		t.Fatalf("insert with an endless busy rule: %v, want BUSY", err)
	}
}

// TestDeterministicThroughSQLite runs the same workload under a random rule
// three times: the same seed fails the same transactions, another does not.
func TestDeterministicThroughSQLite(t *testing.T) {
	run := func(seed int64) (string, faultvfs.Stats) {
		fv, name := register(t, seed)
		path := tempDB(t)
		c := sqltest.Open(t, dsn(path, name))
		sqltest.Exec(t, c, "CREATE TABLE t(x)")
		fv.Add(faultvfs.Rule{Name: "flaky-journal", Ops: faultvfs.OpWrite | faultvfs.OpSync, Kinds: faultvfs.KindJournal, Skip: 2, Probability: 0.3})
		var pattern strings.Builder
		for i := range 40 {
			if err := c.Exec("INSERT INTO t VALUES(" + strings.Repeat("1", i%5+1) + ")"); err != nil {
				if !errors.Is(err, sqlite3.IOERR) {
					t.Fatalf("insert %d: %v, want an I/O error", i, err)
				}
				pattern.WriteByte('x')
			} else {
				pattern.WriteByte('.')
			}
		}
		return pattern.String(), fv.Stats()
	}
	p1, s1 := run(7)
	p2, s2 := run(7)
	p3, _ := run(8)
	if !strings.Contains(p1, "x") || !strings.Contains(p1, ".") {
		t.Fatalf("pattern %s: want some failures and some successes", p1)
	}
	if p1 != p2 || s1.String() != s2.String() {
		t.Fatalf("same seed, different runs:\n%s\n%s\n%v\n%v", p1, p2, s1, s2)
	}
	if p1 == p3 {
		t.Fatalf("seeds 7 and 8 gave the same pattern %s", p1)
	}
}

// TestMmapReadsBypassReadAt documents a limit: with mmap_size set, pages
// come from the mapping and OpRead rules do not see them.
func TestMmapReadsBypassReadAt(t *testing.T) {
	fv, name := register(t, 1)
	path := tempDB(t)
	setup := sqltest.Open(t, dsn(path, name))
	sqltest.Exec(t, setup, "CREATE TABLE t(x); INSERT INTO t SELECT randomblob(500) FROM generate_series(1,200)")
	if err := setup.Close(); err != nil {
		t.Fatal(err)
	}
	reads := func(mmap string) int64 {
		c := sqltest.Open(t, dsn(path, name))
		if got := sqltest.Query(t, c, "PRAGMA mmap_size="+mmap); got != mmap {
			t.Skipf("mmap_size=%s answers %q: no memory mapping on this platform", mmap, got)
		}
		before := fv.Stats().Op(faultvfs.OpRead).Calls
		if got := sqltest.Query(t, c, "SELECT count(*) FROM t WHERE length(x) = 500"); got != "200" {
			t.Fatalf("count = %s", got)
		}
		return fv.Stats().Op(faultvfs.OpRead).Calls - before
	}
	plain, mapped := reads("0"), reads("10000000")
	if plain < 20 || mapped*10 > plain {
		t.Fatalf("ReadAt calls for a full scan: %d without mmap, %d with", plain, mapped)
	}
}
