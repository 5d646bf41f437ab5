package walguard_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/errclass"
	"github.com/walguard/walguard/faultvfs"
	"github.com/walguard/walguard/internal/sqlrow"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	wgvfs "github.com/walguard/walguard/vfs"
)

// Point 3: the post-mortem's fallback routine ("on an error from
// journal_mode=WAL, set DELETE and carry on") in every timing that used to
// downgrade a WAL database for good leaves the header WAL and every
// writer in WAL.

func init() {
	childRoles["fallbackrun"] = childFallbackRun
}

// childFallbackRun runs the fallback routine on WG_DB through walguard
// over a faultvfs. WG_FAULT is "wal-open-x4" (the next four -wal opens
// fail: one whole retry budget) or "wal-p30" (30% of -wal opens and reads
// fail, seeded by WG_SEED). WG_BUSY is the busy timeout in milliseconds.
// With WG_RECONNECT=1 it opens a connection for every row; WG_PLAIN=1
// makes it a plain writer that never runs journal_mode; WG_PAUSE=1 makes
// it print "paused" after its first row, with no connection open, and
// wait for a line. It prints "mode M" after each committed row, then
// "done".
func childFallbackRun() {
	db, id := os.Getenv("WG_DB"), os.Getenv("WG_ID")
	seed, _ := strconv.ParseInt(os.Getenv("WG_SEED"), 10, 64)
	n, _ := strconv.Atoi(os.Getenv("WG_N"))
	busy, _ := strconv.Atoi(os.Getenv("WG_BUSY"))
	fv := faultvfs.New(nil, seed)
	switch os.Getenv("WG_FAULT") {
	case "wal-open-x4":
		fv.Add(faultvfs.Rule{Name: "wal-open", Ops: faultvfs.OpOpen, Kinds: faultvfs.KindWAL, Count: 4})
	case "wal-p30":
		fv.Add(faultvfs.Rule{Name: "wal-eio", Ops: faultvfs.OpOpen | faultvfs.OpRead, Kinds: faultvfs.KindWAL, Probability: 0.3})
	}
	wgvfs.Register("fallbackrun", wgvfs.Options{Base: fv, SidecarHook: fv.SidecarHook()})
	var c *sqlite3.Conn
	connect := func() {
		var err error
		if c, err = sqlite3.Open("file:" + db + "?vfs=fallbackrun"); err != nil {
			childFatal("open: %v", err)
		}
		c.BusyTimeout(time.Duration(busy) * time.Millisecond)
		if os.Getenv("WG_PLAIN") == "1" {
			return
		}
		if err := c.Exec("PRAGMA journal_mode=wal"); err != nil {
			fmt.Println("fallback", strings.ReplaceAll(err.Error(), "\n", " "))
			c.Exec("PRAGMA journal_mode=delete") // the post-mortem's bug
		}
	}
	reconnect := os.Getenv("WG_RECONNECT") == "1"
	connect()
	for i := 0; i < n; {
		err := c.Exec(fmt.Sprintf("INSERT INTO t VALUES('%s', %d)", id, i))
		if err != nil && !errclass.Classify(err).Retryable() {
			childFatal("insert: %v", err)
		}
		if err == nil {
			mode, _ := sqlrow.Text(c, "PRAGMA journal_mode")
			fmt.Println("mode", mode)
			i++
		}
		if reconnect {
			c.Close()
			if i == 1 && os.Getenv("WG_PAUSE") == "1" {
				fmt.Println("paused")
				testproc.ReadLine()
			}
			connect()
		}
	}
	c.Close()
	fmt.Println("injected", fv.Stats().Injected)
	fmt.Println("done")
}

func runFallback(t *testing.T, path string, env ...string) *testproc.Child {
	return testproc.Start(t, os.Args[0], "fallbackrun", append([]string{"WG_DB=" + path}, env...)...)
}

// checkStayedWAL waits for the children and checks that every row was
// committed in WAL, something was injected, the header says WAL and the
// file is sound.
func checkStayedWAL(t *testing.T, path string, rows int, children ...*testproc.Child) {
	t.Helper()
	injected := 0
	for i, ch := range children {
		lines, err := ch.Wait()
		if err != nil {
			t.Fatalf("child %d: %v (%q)", i, err, lines)
		}
		modes := 0
		for _, l := range lines {
			var n int
			if _, err := fmt.Sscanf(l, "injected %d", &n); err == nil {
				injected += n
			}
			if m, ok := strings.CutPrefix(l, "mode "); ok {
				modes++
				if m != "wal" {
					t.Fatalf("child %d committed a row in %s", i, m)
				}
			}
		}
		if modes != rows {
			t.Fatalf("child %d committed %d rows, want %d", i, modes, rows)
		}
	}
	if injected == 0 {
		t.Fatal("no fault was injected: the test proves nothing")
	}
	if got := sqltest.HeaderFamily(t, path); got != 2 {
		t.Fatalf("header family %d, want WAL kept", got)
	}
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, "os"))
	if got := sqltest.Query(t, c, "PRAGMA integrity_check"); got != "ok" {
		t.Fatal(got)
	}
}

// A lone process whose -wal open fails for one whole retry budget, with
// busy_timeout 0: nobody else holds WAL, yet the fallback leaves it WAL.
func TestFallbackRoutineAloneKeepsWAL(t *testing.T) {
	path := sqltest.TempDB(t)
	createTable(t, path, "wal")
	ch := runFallback(t, path, "WG_FAULT=wal-open-x4", "WG_BUSY=0", "WG_N=5", "WG_ID=lone")
	ch.Expect("fallback") // the routine met an error and fell back
	checkStayedWAL(t, path, 5, ch)
}

// A plain writer that reconnects for every transaction, and the fallback
// routine run while that writer has no connection open (nobody holds
// WAL): the fallback must not downgrade, and the plain writer, which never
// asks for a mode, goes on in WAL.
func TestFallbackRoutineBesideReconnectingWriterKeepsWAL(t *testing.T) {
	path := sqltest.TempDB(t)
	createTable(t, path, "wal")
	const rows = 10
	plain := runFallback(t, path, "WG_PLAIN=1", "WG_RECONNECT=1", "WG_PAUSE=1", "WG_BUSY=5000", fmt.Sprint("WG_N=", rows), "WG_ID=plain")
	plain.Expect("paused")
	fallback := runFallback(t, path, "WG_FAULT=wal-open-x4", "WG_BUSY=0", fmt.Sprint("WG_N=", rows), "WG_ID=fallback")
	fallback.Expect("fallback")
	fallback.Expect("mode")
	plain.Send("go on")
	checkStayedWAL(t, path, rows, fallback, plain)
}

// Several processes that all reconnect for every transaction and run the
// fallback routine on every connection, over random transient faults.
func TestFallbackRoutineReconnectingUnderFaultsKeepsWAL(t *testing.T) {
	path := sqltest.TempDB(t)
	createTable(t, path, "wal")
	const rows = 40
	a := runFallback(t, path, "WG_FAULT=wal-p30", "WG_SEED=7", "WG_BUSY=5000", "WG_RECONNECT=1", fmt.Sprint("WG_N=", rows), "WG_ID=a")
	b := runFallback(t, path, "WG_FAULT=wal-p30", "WG_SEED=8", "WG_BUSY=0", "WG_RECONNECT=1", fmt.Sprint("WG_N=", rows), "WG_ID=b")
	checkStayedWAL(t, path, rows, a, b)
}

// One EIO in the shared-memory mapping, which no VFS can intercept on
// ncruces (vfs.SharedMemory's methods are unexported): strace makes the
// first fallocate(2) of the child, the one that sizes the -shm, fail. The
// fallback routine, with busy_timeout 5 s, meets the error from
// journal_mode=WAL and falls back; the header stays WAL and every row is
// committed in WAL.
func TestFallbackRoutineWithSharedMemoryFaultKeepsWAL(t *testing.T) {
	if _, err := exec.LookPath("strace"); err != nil {
		t.Fatal("strace is needed to inject a shared-memory fault (.ci/run installs it)")
	}
	path := sqltest.TempDB(t)
	createTable(t, path, "wal")
	trace := filepath.Join(t.TempDir(), "strace.out")
	cmd := exec.Command("strace", "-f", "-qq", "-o", trace, "-e", "trace=fallocate",
		"-e", "inject=fallocate:error=EIO:when=1", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), testproc.RoleEnv+"=fallbackrun", "WG_DB="+path, "WG_BUSY=5000", "WG_N=5", "WG_ID=shm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child under strace: %v\n%s", err, out)
	}
	log, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "(INJECTED)") {
		t.Fatalf("strace injected nothing: the test proves nothing\n%s", log)
	}
	if !strings.Contains(string(out), "fallback ") {
		t.Fatalf("the routine met no error, so it never fell back: the fault missed the -shm\n%s", out)
	}
	rows := 0
	for _, l := range strings.Split(string(out), "\n") {
		if m, ok := strings.CutPrefix(l, "mode "); ok {
			rows++
			if m != "wal" {
				t.Fatalf("a row was committed in %s\n%s", m, out)
			}
		}
	}
	if rows != 5 {
		t.Fatalf("%d rows committed, want 5\n%s", rows, out)
	}
	if got := sqltest.HeaderFamily(t, path); got != 2 {
		t.Fatalf("header family %d, want WAL kept", got)
	}
}
