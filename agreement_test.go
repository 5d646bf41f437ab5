package walguard_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard"
	"github.com/walguard/walguard/internal/sqlrow"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/policy"
	wgvfs "github.com/walguard/walguard/vfs"
)

// Tests of issue 9: agreeing connections are never refused, and WAL is
// left only deliberately.

func init() {
	childRoles["switchidle"] = childSwitchIdle
	childRoles["rollbackidle"] = childRollbackIdle
	childRoles["rollbackmidtxn"] = childRollbackMidTransaction
}

// childRollbackMidTransaction opens a write transaction on WG_DB (a
// rollback database) through walguard, inserts a row, prints "ready" and
// holds the transaction (and SQLite's RESERVED lock) until its stdin closes.
func childRollbackMidTransaction() {
	c, err := sqlite3.Open("file:" + os.Getenv("WG_DB") + "?vfs=walguard")
	if err != nil {
		childFatal("open: %v", err)
	}
	defer c.Close()
	if err := c.Exec("BEGIN IMMEDIATE; INSERT INTO t VALUES('mid', 1)"); err != nil {
		childFatal("begin: %v", err)
	}
	fmt.Println("ready")
	testproc.WaitForEOF()
}

// readmeDSN is the database/sql DSN the README gives.
func readmeDSN(path string) string {
	return "file:" + path + "?vfs=walguard&_pragma=busy_timeout(5000)&_pragma=journal_mode(wal)"
}

// childSwitchIdle switches WG_DB to WAL through walguard, prints "ready"
// and idles until its stdin closes: a migration connection.
func childSwitchIdle() {
	c, err := sqlite3.Open("file:" + os.Getenv("WG_DB") + "?vfs=walguard")
	if err != nil {
		childFatal("open: %v", err)
	}
	defer c.Close()
	if err := c.Exec("PRAGMA journal_mode=wal"); err != nil {
		childFatal("journal_mode=wal: %v", err)
	}
	fmt.Println("ready")
	testproc.WaitForEOF()
}

// childRollbackIdle writes one row into table t of WG_DB (a rollback
// database) through walguard, prints "ready", and idles. Each line it
// reads makes it insert one more row and print "ack" or "err MESSAGE".
func childRollbackIdle() {
	c := childOpen("file:" + os.Getenv("WG_DB") + "?vfs=walguard")
	defer c.Close()
	if err := c.Exec("INSERT INTO t VALUES('idle', 0)"); err != nil {
		childFatal("insert: %v", err)
	}
	fmt.Println("ready")
	for i := 1; testproc.ReadLine() != ""; i++ {
		if err := c.Exec(fmt.Sprintf("INSERT INTO t VALUES('idle', %d)", i)); err != nil {
			fmt.Println("err", err)
			continue
		}
		mode, _ := sqlrow.Text(c, "PRAGMA journal_mode")
		fmt.Println("ack", mode)
	}
}

// Point 1: a pool whose connections open with the README's DSN on a fresh
// database, each before the others have run a query: every one succeeds,
// as on the os VFS.
func TestPoolWithREADMEDSNOnFreshDatabase(t *testing.T) {
	const n = 8
	path := sqltest.TempDB(t)
	db, err := sql.Open("sqlite3", readmeDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(n)
	var conns []*sql.Conn
	for i := range n {
		c, err := db.Conn(t.Context())
		if err != nil {
			t.Fatalf("pooled connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		var mode string
		if err := c.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
		}
		c.Close()
	}
	if sqltest.HeaderFamily(t, path) != 2 {
		t.Fatal("header is not WAL")
	}
}

// Point 1, concurrently: n connections opened at the same instant on a
// fresh database. SQLite itself may answer "database is locked" to one of
// them on the os VFS too (a read transaction cannot wait to upgrade while
// another connection switches the header), so the test holds walguard to
// adding no refusal of its own.
func TestPoolOpenedAtOnceAddsNoRefusal(t *testing.T) {
	const n, rounds = 8, 10
	refusals := func() (total uint64) {
		for _, c := range walguard.Stats().Refusals {
			total += c
		}
		return total
	}
	before := refusals()
	failed := 0
	for range rounds {
		path := sqltest.TempDB(t)
		db, err := sql.Open("sqlite3", readmeDSN(path))
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(n)
		var wg sync.WaitGroup
		conns := make(chan *sql.Conn, n)
		var mu sync.Mutex
		for range n {
			wg.Go(func() {
				c, err := db.Conn(t.Context())
				if err != nil {
					if !strings.Contains(err.Error(), "database is locked") {
						t.Errorf("a pooled connection: %v", err)
					}
					mu.Lock()
					failed++
					mu.Unlock()
					return
				}
				conns <- c
			})
		}
		wg.Wait()
		close(conns)
		for c := range conns {
			c.Close()
		}
		db.Close()
	}
	if got := refusals() - before; got != 0 {
		t.Fatalf("walguard refused %d times (%v); SQLite's own lock waits aside, agreeing connections are never refused", got, walguard.Stats().Refusals)
	}
	t.Logf("%d of %d connections met SQLite's own lock-upgrade busy, as on the os VFS", failed, n*rounds)
}

// Point 1: a connection in another process that switched the database to
// WAL and idles keeps nobody out: a reader and a writer join at once,
// without a busy handler.
func TestIdleSwitcherDoesNotBlockWALJoins(t *testing.T) {
	path := sqltest.TempDB(t)
	switcher := testproc.Start(t, os.Args[0], "switchidle", "WG_DB="+path)
	switcher.Expect("ready")

	c := sqltest.OpenWaiting(t, sqltest.DSN(path, walguard.VFSName))
	if err := c.BusyTimeout(0); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlrow.Text(c, "SELECT count(*) FROM sqlite_schema"); err != nil {
		t.Fatalf("a reader beside the idle switcher: %v", err)
	}
	if err := c.Exec("CREATE TABLE t(x); INSERT INTO t VALUES(1)"); err != nil {
		t.Fatalf("a writer beside the idle switcher: %v", err)
	}
	if got := sqltest.Query(t, c, "PRAGMA journal_mode"); got != "wal" {
		t.Fatalf("journal_mode = %s", got)
	}
	if _, err := switcher.Wait(); err != nil {
		t.Fatal(err)
	}
}

// Point 2: the sqlite3 CLI flips the database to WAL while a walguard
// connection in another process idles after a rollback write. Other
// walguard connections join WAL at once, and the idle one follows the
// header at its next write.
func TestCLIFlipBesideIdleRollbackConnection(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Fatal("the sqlite3 CLI is needed (.ci/run installs it)")
	}
	path := sqltest.TempDB(t)
	createTable(t, path, "delete")
	idle := testproc.Start(t, os.Args[0], "rollbackidle", "WG_DB="+path)
	idle.Expect("ready")

	if out, err := exec.Command("sqlite3", path, "PRAGMA journal_mode=WAL").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "wal" {
		t.Fatalf("sqlite3 CLI: %q, %v", out, err)
	}
	g := wgvfs.New(wgvfs.Options{})
	name := sqltest.Register(t, g)
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, name))
	c.BusyTimeout(0)
	if _, err := sqlrow.Text(c, "SELECT count(*) FROM t"); err != nil {
		t.Fatalf("a reader after the CLI flip: %v", err)
	}
	if err := c.Exec("INSERT INTO t VALUES('parent', 1)"); err != nil {
		t.Fatalf("a writer after the CLI flip: %v", err)
	}
	if n := g.Stats().ForeignFlips; n != 1 {
		t.Fatalf("foreign flips counted %d, want 1", n)
	}
	idle.Send("insert")
	if line := idle.Expect(""); line != "ack wal" {
		t.Fatalf("the idle connection's next write: %q, want it in WAL", line)
	}
	c.Close()
	if _, err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	check := sqltest.OpenWaiting(t, sqltest.DSN(path, "os"))
	if got := sqltest.Query(t, check, "PRAGMA integrity_check"); got != "ok" {
		t.Fatal(got)
	}
	if got := sqltest.Query(t, check, "SELECT count(*) FROM t"); got != "3" {
		t.Fatalf("%s rows, want 3", got)
	}
}

// Point 3 and invariant 2: a plain journal_mode that leaves WAL is refused
// even when alone, with a message that names the deliberate way; the
// policy option restores the old behaviour; the deliberate way records
// who, when and why.
func TestLeavingWALIsDeliberate(t *testing.T) {
	path := sqltest.TempDB(t)
	createTable(t, path, "wal")
	g := wgvfs.New(wgvfs.Options{})
	name := sqltest.Register(t, g)
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, name))
	for _, mode := range []string{"delete", "truncate", "persist", "memory", "off", "DELETE", "d"} {
		_, err := sqlrow.Text(c, "PRAGMA journal_mode="+mode)
		if err == nil || !strings.Contains(err.Error(), "walguard.SetJournalMode") || !strings.Contains(err.Error(), "walguard mode") {
			t.Fatalf("journal_mode=%s alone on a WAL database: %v, want refused naming the deliberate way", mode, err)
		}
		if walguard.Classify(err).Retryable() {
			t.Fatalf("%v is retryable; waiting cannot make a fallback deliberate", err)
		}
	}
	if got := sqltest.Query(t, c, "PRAGMA journal_mode"); got != "wal" || sqltest.HeaderFamily(t, path) != 2 {
		t.Fatalf("journal_mode %s, header %d after refusals", got, sqltest.HeaderFamily(t, path))
	}
	if n := g.Stats().Refusals[policy.ReasonLeaveWAL.String()]; n != 7 {
		t.Fatalf("refusals counted %d, want 7", n)
	}
	c.Close()

	pol := policy.Default()
	pol.DowngradeWhenAlone = true
	old := sqltest.Register(t, wgvfs.New(wgvfs.Options{Policy: &pol}))
	c = sqltest.OpenWaiting(t, sqltest.DSN(path, old))
	if got := sqltest.Query(t, c, "PRAGMA journal_mode=delete"); got != "delete" || sqltest.HeaderFamily(t, path) != 1 {
		t.Fatalf("DowngradeWhenAlone: journal_mode %s, header %d", got, sqltest.HeaderFamily(t, path))
	}
	sqltest.Query(t, c, "PRAGMA journal_mode=wal")
	c.Close()

	before := time.Now()
	if err := walguard.SetJournalMode(t.Context(), path, "truncate"); err != nil {
		t.Fatal(err)
	}
	st, err := walguard.Status(path)
	if err != nil {
		t.Fatal(err)
	}
	if r := st.Sidecar.Record; r == nil || r.Family != policy.FamilyRollback || r.Mode != policy.ModeTruncate ||
		r.Reason != policy.ReasonOperator || r.SetterPID != uint32(os.Getpid()) || r.SetAt.Before(before) {
		t.Fatalf("record %+v, want truncate set by this process as operator", st.Sidecar.Record)
	}
	if sqltest.HeaderFamily(t, path) != 1 {
		t.Fatal("header is not rollback")
	}
	if err := walguard.SetJournalMode(t.Context(), path, "wal"); err != nil {
		t.Fatal(err)
	}
	if sqltest.HeaderFamily(t, path) != 2 {
		t.Fatal("header is not WAL")
	}
	if err := walguard.SetJournalMode(t.Context(), path, "wall"); err == nil {
		t.Fatal("an unknown mode was accepted")
	}
}

// Point 5: a refused journal_mode waits like a busy handler, bounded by
// the connection's busy_timeout: it succeeds once the participant in the
// way closes; without a timeout it is BUSY at once, and the message names
// who is in the way.
func TestRefusedPragmaWaitsForTheParticipantInTheWay(t *testing.T) {
	path := sqltest.TempDB(t)
	createTable(t, path, "delete")
	idle := testproc.Start(t, os.Args[0], "rollbackidle", "WG_DB="+path)
	idle.Expect("ready")

	g := wgvfs.New(wgvfs.Options{})
	name := sqltest.Register(t, g)
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, name))
	c.BusyTimeout(0)
	_, err := sqlrow.Text(c, "PRAGMA journal_mode=wal")
	want := fmt.Sprintf("pid %d (slot ", idle.Pid())
	if !errors.Is(err, sqlite3.BUSY) || !strings.Contains(err.Error(), want) {
		t.Fatalf("journal_mode=wal beside a rollback writer: %v, want BUSY naming %q", err, want)
	}

	c.BusyTimeout(time.Minute)
	done := make(chan error, 1)
	go func() {
		_, err := sqlrow.Text(c, "PRAGMA journal_mode=wal")
		done <- err
	}()
	for g.Stats().PragmaWaits == 0 {
		select {
		case err := <-done:
			t.Fatalf("journal_mode=wal returned before waiting: %v", err)
		default:
			time.Sleep(time.Millisecond) // polling a counter, not synchronising on time
		}
	}
	if _, err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("journal_mode=wal once the rollback writer closed: %v", err)
	}
	if sqltest.HeaderFamily(t, path) != 2 {
		t.Fatal("header is not WAL")
	}
}

// Point 5, through database/sql: a DSN journal_mode waits for the open
// instead of failing it.
func TestDSNJournalModeWaitsInsteadOfFailingTheOpen(t *testing.T) {
	path := sqltest.TempDB(t)
	createTable(t, path, "delete")
	idle := testproc.Start(t, os.Args[0], "rollbackidle", "WG_DB="+path)
	idle.Expect("ready")
	db, err := sql.Open("sqlite3", readmeDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waits := walguard.Stats().PragmaWaits
	done := make(chan error, 1)
	go func() { done <- db.PingContext(context.Background()) }()
	for walguard.Stats().PragmaWaits == waits {
		select {
		case err := <-done:
			t.Fatalf("open returned before waiting: %v", err)
		default:
			time.Sleep(time.Millisecond)
		}
	}
	if _, err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("open with the README DSN once the rollback writer closed: %v", err)
	}
}

// Invariant 1 against a hostile process: a rollback writer's declaration
// is moot under a WAL header only while it is not in a transaction. A
// process that ignores locks rewrites header bytes 18/19 to WAL while a
// walguard rollback writer holds RESERVED mid-transaction: a walguard
// connection that would join WAL is refused.
func TestWALHeaderUnderARollbackWriterMidTransaction(t *testing.T) {
	path := sqltest.TempDB(t)
	createTable(t, path, "delete")
	writer := testproc.Start(t, os.Args[0], "rollbackmidtxn", "WG_DB="+path)
	writer.Expect("ready")
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{2, 2}, 18); err != nil {
		t.Fatal(err)
	}
	f.Close()

	g := wgvfs.New(wgvfs.Options{})
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, sqltest.Register(t, g)))
	c.BusyTimeout(0)
	if _, err := sqlrow.Text(c, "SELECT count(*) FROM t"); err == nil {
		t.Fatal("a WAL join beside a rollback writer mid-transaction was admitted")
	}
	if r := g.LastRefusal(path); r == nil || r.Reason != policy.ReasonFamilyMismatch {
		t.Fatalf("last refusal %v, want a journal family mismatch", r)
	}
	writer.Kill()
}
