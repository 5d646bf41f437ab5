package ext_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/sidecar"
)

// roles are this test binary's child processes.
var roles = map[string]func(){"gowriter": goWriter}

// goWriter is a Go participant (ncruces + walguard): it inserts WG_N rows
// named WG_ID-i into WG_DB, printing "ack WG_ID-i" after each commit, then
// "done".
func goWriter() {
	n, _ := strconv.Atoi(os.Getenv("WG_N"))
	id := os.Getenv("WG_ID")
	c, err := sqlite3.Open("file:" + os.Getenv("WG_DB") + "?vfs=" + walguard.VFSName)
	if err != nil {
		fmt.Println("fatal", err)
		os.Exit(1)
	}
	c.BusyTimeout(10 * time.Second)
	for i := range n {
		name := fmt.Sprintf("%s-%d", id, i)
		if err := c.Exec("INSERT INTO t VALUES('" + name + "')"); err != nil {
			fmt.Println("fatal", err)
			os.Exit(1)
		}
		fmt.Println("ack", name)
	}
	c.Close()
	fmt.Println("done")
}

// faultLib builds the test build of the extension: walguard over
// "wgfault", a VFS whose -wal opens fail as WG_FAULT_* say.
func faultLib(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(buildDir, "faults")
	lib := filepath.Join(dir, "libwalguard.so")
	faultOnce.Do(func() {
		if faultErr = os.MkdirAll(dir, 0o755); faultErr == nil {
			faultErr = compile(lib, append([]string{"-O2", "-fPIC", "-shared", "-DWG_TEST_FAULTS", "test/wg_faults.c"}, sources...), "-lpthread")
		}
	})
	if faultErr != nil {
		t.Fatal(faultErr)
	}
	return lib
}

var (
	faultOnce sync.Once
	faultErr  error
)

// postMortem is the fallback routine of the incident's program, in
// Python: on a "disk I/O error" from journal_mode=WAL, set DELETE and
// carry on. It writes WG_N rows, one connection each (each meets the -wal
// open again), printing "ack ID-i" after each commit and "fallback R"
// when the routine ran (R: what DELETE answered). Argument: the VFS.
const postMortem = `
import os, sqlite3, sys
vfs = sys.argv[1]
loader = sqlite3.connect(":memory:")
loader.enable_load_extension(True)
loader.load_extension(os.environ["WG_LIB"])
ident, n = os.environ["WG_ID"], int(os.environ["WG_N"])
def connect():
    db = sqlite3.connect("file:app.db?vfs=" + vfs, uri=True, timeout=10)
    try:
        db.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as e:
        if "disk I/O error" in str(e):
            try:
                print("fallback", db.execute("PRAGMA journal_mode=DELETE").fetchone()[0], flush=True)
            except sqlite3.OperationalError as e2:
                print("fallback refused", e2, flush=True)
        else:
            raise
    return db
print("ready", flush=True)
for i in range(n):
    while True:
        try:
            db = connect()
            db.execute("INSERT INTO t VALUES(?)", ("%s-%d" % (ident, i),))
            db.commit()
            db.close()
            break
        except sqlite3.OperationalError as e:
            print("retry", e, flush=True)
            db.close()
    print("ack %s-%d" % (ident, i), flush=True)
print("done", flush=True)
`

// The mixed-language proof, short: a Go participant (ncruces + walguard),
// Python participants with libwalguard running the post-mortem's fallback
// routine under transient -wal faults (one of them killed mid-run and
// replaced), and the sqlite3 CLI with libwalguard write one WAL database.
// Sampled while they run, the sidecar never shows two families nor an
// incompatible protocol, and shows the C participants in its slots; at the
// end the database passes integrity_check, every acknowledged row is
// there, and the header still says WAL.
func TestMixedLanguages(t *testing.T) {
	needLib(t)
	py := debianPython(t)
	need(t, "sqlite3")
	lib := faultLib(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	prepareDB(t, db, "PRAGMA journal_mode=wal; CREATE TABLE t(id TEXT)")

	var mu sync.Mutex
	acked := map[string]bool{}
	ack := func(line string) {
		if id, ok := strings.CutPrefix(line, "ack "); ok {
			mu.Lock()
			acked[id] = true
			mu.Unlock()
		}
	}
	env := func(id string, n int) []string {
		return append(os.Environ(), "WG_LIB="+strings.TrimSuffix(lib, ".so"), "WG_ID="+id, "WG_N="+strconv.Itoa(n),
			"WG_FAULT_WAL_P=30", "WG_FAULT_SEED="+strconv.Itoa(len(id)*7919))
	}
	type proc struct {
		c    *client
		done chan struct{}
	}
	var procs []proc
	startPy := func(id string, n int) *client {
		c := startClientEnv(t, dir, env(id, n), "", py, "-u", "-c", postMortem, "walguard")
		return c
	}
	collect := func(c *client) proc {
		p := proc{c, make(chan struct{})}
		go func() {
			closed := false
			for line := range c.lines {
				ack(line)
				if strings.HasPrefix(line, "fallback") {
					t.Errorf("the fallback routine ran through walguard: %s", line)
				}
				if line == "done" && !closed {
					close(p.done)
					closed = true
				}
			}
			if !closed {
				close(p.done)
			}
		}()
		return p
	}
	goChild := testproc.Start(t, os.Args[0], "gowriter", "WG_DB="+db, "WG_ID=go", "WG_N=150")
	procs = append(procs, collect(startPy("py1", 60)), collect(startPy("py2", 60)))
	victim := startPy("victim", 1000)
	cliScript := fmt.Sprintf(".load %s\n.open file:app.db?vfs=walguard\n.timeout 10000\nSELECT 'ready';\n", strings.TrimSuffix(lib, ".so"))
	for i := range 80 {
		cliScript += fmt.Sprintf("INSERT INTO t VALUES('cli-%d');\nSELECT 'ack cli-%d';\n", i, i)
	}
	cli := startClientEnv(t, dir, env("cli", 0), cliScript+"SELECT 'done';\n", "stdbuf", "-o0", "sqlite3")
	procs = append(procs, collect(cli))

	// Sample the sidecar while they run; kill the victim after its tenth row.
	sawC := map[string]bool{}
	sample := func() {
		st, err := sidecar.ReadStatus(db)
		if err != nil {
			t.Fatalf("sidecar: %v", err)
		}
		if len(st.Families) > 1 {
			t.Fatalf("two families live at once: %v", st.Families)
		}
		for _, p := range st.Protocols {
			if s := p.String(); s != "posix" && s != "ofd" {
				t.Fatalf("protocol %s live beside posix and ofd", s)
			}
		}
		for _, p := range st.Participants {
			if p.Entry != nil && p.Entry.Protocol.String() == "posix" {
				sawC[p.Entry.Program] = true
			}
		}
	}
	for line := range victim.lines {
		ack(line)
		sample()
		if line == "ack victim-10" {
			break
		}
	}
	victim.cmd.Process.Kill()
	victim.cmd.Wait()
	procs = append(procs, collect(startPy("py3", 30)))
	for {
		line := goChild.Expect("")
		if strings.HasPrefix(line, "fatal") {
			t.Fatalf("the Go writer: %s", line)
		}
		ack(line)
		sample()
		if line == "done" {
			break
		}
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(testproc.Timeout):
			t.Fatalf("%s did not finish; stderr:\n%s", p.c.cmd.Args[0], p.c.stderr.String())
		}
		p.c.stop()
		if p.c.cmd.ProcessState == nil || !p.c.cmd.ProcessState.Success() {
			t.Fatalf("%s: %v; stderr:\n%s", p.c.cmd.Args[0], p.c.cmd.ProcessState, p.c.stderr.String())
		}
	}
	if !sawC["python3"] && !sawC["sqlite3"] {
		t.Errorf("no C participant seen in the slots while they ran: %v", sawC)
	}

	check := sqltest.Open(t, sqltest.DSN(db, walguard.VFSName))
	defer check.Close()
	if got := sqltest.Query(t, check, "PRAGMA integrity_check"); got != "ok" {
		t.Fatalf("integrity_check: %s", got)
	}
	present := map[string]bool{}
	stmt, _, err := check.Prepare("SELECT id FROM t")
	if err != nil {
		t.Fatal(err)
	}
	for stmt.Step() {
		present[stmt.ColumnText(0)] = true
	}
	stmt.Close()
	var missing []string
	for id := range acked {
		if !present[id] {
			missing = append(missing, id)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Fatalf("%d acknowledged rows missing: %v", len(missing), missing)
	}
	if got := sqltest.HeaderFamily(t, db); got != 2 {
		t.Fatalf("header family byte %d, want 2 (WAL)", got)
	}
	t.Logf("%d acknowledged rows, all present; C participants seen in slots: %v", len(acked), sawC)
}

// The post-mortem's routine, guard on and off: a Python process whose
// first -wal open fails with "disk I/O error" runs its fallback while its
// WAL siblings are between connections. Without walguard (the plain VFS
// over the same faults) it downgrades the database to DELETE for good;
// with libwalguard the fault is retried, the routine never falls back,
// and the header stays WAL.
func TestPostMortemFallback(t *testing.T) {
	needLib(t)
	py := debianPython(t)
	lib := faultLib(t)
	for _, tc := range []struct {
		vfs    string
		header byte
	}{{"wgfault", 1}, {"walguard", 2}} {
		dir := t.TempDir()
		db := filepath.Join(dir, "app.db")
		prepareDB(t, db, "PRAGMA journal_mode=wal; CREATE TABLE t(id TEXT)")
		cmd := exec.Command(py, "-u", "-c", postMortem, tc.vfs)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "WG_LIB="+strings.TrimSuffix(lib, ".so"), "WG_ID="+tc.vfs, "WG_N=1", "WG_FAULT_WAL_OPENS=1")
		out := run(t, cmd)
		fellBack := strings.Contains(out, "fallback delete")
		if got := sqltest.HeaderFamily(t, db); got != tc.header || fellBack != (tc.vfs == "wgfault") {
			t.Fatalf("%s: header family byte %d (want %d), output:\n%s", tc.vfs, got, tc.header, out)
		}
		t.Logf("%s: header %d; %s", tc.vfs, tc.header, strings.ReplaceAll(strings.TrimSpace(out), "\n", " | "))
	}
}
