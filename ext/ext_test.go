package ext_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/walguard/walguard"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/lockcheck"
	"github.com/walguard/walguard/sidecar"
)

// The extension is built once per test binary, into a directory removed
// before the binary exits.
var (
	buildDir string // holds libwalguard.so and the test programs
	libPath  string // buildDir/libwalguard.so
	buildErr error
)

// sources are the extension's C files, relative to this directory (C files
// live in src/: a Go package directory may not hold them without cgo).
var sources = []string{"src/walguard.c", "src/wg_format.c", "src/wg_policy.c", "src/wg_sidecar.c", "src/wg_foreign.c"}

// cflags are the flags every build uses: warnings are errors.
var cflags = []string{"-std=c11", "-Wall", "-Wextra", "-Werror"}

func TestMain(m *testing.M) {
	testproc.Dispatch(roles)
	os.Exit(testproc.RunInPrivateTemp(func() int {
		dir, err := os.MkdirTemp("", "libwalguard-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		buildDir = dir
		libPath = filepath.Join(dir, "libwalguard.so")
		if runtime.GOOS == "linux" {
			buildErr = compile(libPath, append([]string{"-O2", "-fPIC", "-shared"}, sources...), "-lpthread")
		}
		return m.Run()
	}))
}

// cc is the C compiler: $CC, or cc.
func cc() string {
	if c := os.Getenv("CC"); c != "" {
		return c
	}
	return "cc"
}

// compile runs the C compiler with cflags, args and then libs, writing out.
func compile(out string, args []string, libs ...string) error {
	full := append(append(append([]string{}, cflags...), args...), "-o", out)
	full = append(full, libs...)
	cmd := exec.Command(cc(), full...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", cc(), strings.Join(full, " "), err, b)
	}
	return nil
}

// needLib fails the test if the extension did not build; it is Linux only
// (OFD locks), as the README says.
func needLib(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("libwalguard needs Linux's OFD locks; %s is not supported yet (README, Other languages)", runtime.GOOS)
	}
	if buildErr != nil {
		t.Fatalf("building libwalguard (.ci/run installs a C compiler and libsqlite3-dev): %v", buildErr)
	}
}

// prepareDB runs sql on the database at db through Go's walguard and
// closes the connection: the state a test's C and Python clients start
// from.
func prepareDB(t *testing.T, db, sql string) {
	t.Helper()
	c := sqltest.Open(t, sqltest.DSN(db, walguard.VFSName))
	sqltest.Exec(t, c, sql)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// need fails the test when a program it drives is missing: .ci/run
// installs every one of them.
func need(t *testing.T, prog string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		t.Fatalf("%s is needed for this interop test (.ci/run installs it): %v", prog, err)
	}
	return p
}

// run runs a command and returns its combined output, failing on error.
func run(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	return string(b)
}

// The shared golden vectors and decision table (testdata/protocol) hold
// for the C implementation: every record and slot decodes, re-encodes and
// prints its JSON as the Go shim does, and every scenario gets its
// decision, reason and code.
func TestProtocolVectors(t *testing.T) {
	t.Parallel()
	needLib(t)
	bin := filepath.Join(buildDir, "wg_unit")
	if err := compile(bin, []string{"-O2", "test/wg_unit.c", "src/wg_format.c", "src/wg_policy.c"}); err != nil {
		t.Fatal(err)
	}
	out := run(t, exec.Command(bin, "../testdata/protocol"))
	if !strings.Contains(out, ", 0 failures") {
		t.Fatalf("wg_unit: %s", out)
	}
	t.Log(strings.TrimSpace(out))
}

// The extension and its unit tests run clean under AddressSanitizer,
// UndefinedBehaviorSanitizer and LeakSanitizer: the vectors, and a driver
// that loads the instrumented extension into SQLite and runs open/close
// loops (no descriptor left behind), four writer threads, a refusal, an
// interrupted switch resolved, a process without walguard listed, and
// (in the test build, every SHARED lock failing with ENOLCK) the settle
// rule.
func TestSanitizers(t *testing.T) {
	t.Parallel()
	needLib(t)
	dir := filepath.Join(buildDir, "asan")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	san := []string{"-g", "-O1", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"}
	lib := filepath.Join(dir, "libwalguard.so")
	faults := filepath.Join(dir, "faults", "libwalguard.so")
	if err := os.MkdirAll(filepath.Dir(faults), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(dir, "wg_unit")
	driver := filepath.Join(dir, "wg_driver")
	for _, b := range []struct {
		out  string
		args []string
		libs []string
	}{
		{lib, append(append([]string{"-fPIC", "-shared"}, san...), sources...), []string{"-lpthread"}},
		{faults, append(append([]string{"-fPIC", "-shared", "-DWG_TEST_FAULTS", "test/wg_faults.c"}, san...), sources...), []string{"-lpthread"}},
		{unit, append(append([]string{}, san...), "test/wg_unit.c", "src/wg_format.c", "src/wg_policy.c"), nil},
		{driver, append(append([]string{}, san...), "test/wg_driver.c", "src/wg_format.c", "src/wg_policy.c"), []string{"-lsqlite3", "-lpthread"}},
	} {
		if err := compile(b.out, b.args, b.libs...); err != nil {
			t.Fatalf("a sanitizer build (gcc's libasan and libubsan; .ci/run installs gcc): %v", err)
		}
	}
	env := append(os.Environ(), "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23",
		"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1", "LSAN_OPTIONS=exitcode=23")
	for _, c := range [][]string{{unit, "../testdata/protocol"}, {driver, lib, t.TempDir()}, {driver, faults, t.TempDir(), "settle"}} {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Env = env
		if len(c) == 4 {
			cmd.Env = append(env, "WG_FAULT_LOCK_ENOLCK=-1")
		}
		out := run(t, cmd)
		if strings.Contains(out, "runtime error:") || strings.Contains(out, "Sanitizer") {
			t.Fatalf("%s reported:\n%s", filepath.Base(c[0]), out)
		}
	}
}

// SQLite calls the extension from several threads (one connection each in
// the driver's four writers, and the open/close loops): ThreadSanitizer
// finds no data race in it.
func TestThreadSanitizer(t *testing.T) {
	t.Parallel()
	needLib(t)
	dir := filepath.Join(buildDir, "tsan")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	san := []string{"-g", "-O1", "-fsanitize=thread"}
	lib := filepath.Join(dir, "libwalguard.so")
	driver := filepath.Join(dir, "wg_driver")
	if err := compile(lib, append(append([]string{"-fPIC", "-shared"}, san...), sources...), "-lpthread"); err != nil {
		t.Fatalf("a ThreadSanitizer build (gcc's libtsan; .ci/run installs gcc): %v", err)
	}
	if err := compile(driver, append(san, "test/wg_driver.c", "src/wg_format.c", "src/wg_policy.c"), "-lsqlite3", "-lpthread"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(driver, lib, t.TempDir())
	cmd.Env = append(os.Environ(), "TSAN_OPTIONS=halt_on_error=1:exitcode=66")
	if out := run(t, cmd); strings.Contains(out, "ThreadSanitizer") {
		t.Fatalf("wg_driver under ThreadSanitizer:\n%s", out)
	}
}

// The sqlite3 CLI loads the extension with .load and opens the database
// through ?vfs=walguard; its connection is a participant in the sidecar,
// as walguard check and Go's sidecar.ReadStatus show it: slot, pid,
// protocol posix, program sqlite3.
func TestSQLiteCLILoad(t *testing.T) {
	needLib(t)
	need(t, "sqlite3")
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	cli := startClient(t, dir, fmt.Sprintf(".load %s\n.open file:app.db?vfs=walguard\nPRAGMA journal_mode=wal;\nCREATE TABLE t(x);\nINSERT INTO t VALUES(1);\nSELECT 'ready';\n",
		strings.TrimSuffix(libPath, ".so")), "stdbuf", "-o0", "sqlite3")
	st, err := sidecar.ReadStatus(db)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Participants) != 1 || st.Participants[0].Entry == nil {
		t.Fatalf("participants %+v, want the CLI's connection", st.Participants)
	}
	e := st.Participants[0].Entry
	if int(e.PID) != cli.pid() || e.Protocol.String() != "posix" || e.Family.String() != "wal" || e.Program != "sqlite3" {
		t.Fatalf("the CLI's slot entry: %+v (pid %d)", e, cli.pid())
	}
	if st.Record == nil || st.Record.Family.String() != "wal" || st.Record.Reason.String() != "journal_mode pragma" {
		t.Fatalf("record %+v", st.Record)
	}
	// walguard check: the C participant is in a slot like a Go one, so its
	// POSIX locks are not listed as a participant without walguard, and
	// the verdict is consistent.
	r, err := lockcheck.Inspect(db)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Sidecar.Participants) != 1 || len(r.WithoutWalguard) != 0 || !r.Consistent() {
		t.Fatalf("walguard check: participants %+v, without walguard %+v, hazards %+v", r.Sidecar.Participants, r.WithoutWalguard, r.Hazards)
	}
	// A refusal reaches the CLI's user with its reason.
	cli.send("PRAGMA journal_mode=delete;\nSELECT 'after';\n")
	cli.expect(t, "after")
	cli.stop()
	if !strings.Contains(cli.stderr.String(), "walguard refused journal_mode=delete on "+db+": leaving WAL is deliberate") {
		t.Fatalf("the CLI's error output:\n%s", cli.stderr.String())
	}
	if got := sqltest.HeaderFamily(t, db); got != 2 {
		t.Fatalf("header family byte %d after a refused downgrade, want 2 (WAL)", got)
	}
}

// Debian's python3 loads the extension with conn.load_extension and opens
// file:app.db?vfs=walguard; PRAGMA walguard_status answers an object with
// exactly the keys Go's (vfs.Status) has, recursively.
func TestPythonLoadExtension(t *testing.T) {
	needLib(t)
	py := debianPython(t)
	dir := t.TempDir()
	out := run(t, exec.Command(py, "-c", fmt.Sprintf(`
import sqlite3
c = sqlite3.connect(":memory:")
c.enable_load_extension(True)
c.load_extension(%q)
db = sqlite3.connect("file:%s/app.db?vfs=walguard", uri=True)
db.execute("PRAGMA journal_mode=wal")
db.execute("CREATE TABLE t(x)")
db.execute("INSERT INTO t VALUES(1)")
db.commit()
try:
    db.execute("PRAGMA journal_mode=delete")
except sqlite3.OperationalError as e:
    pass
print(db.execute("PRAGMA walguard_status").fetchone()[0])
`, strings.TrimSuffix(libPath, ".so"), dir)))
	var c map[string]any
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("walguard_status from python: %v\n%s", err, out)
	}
	// The same database through the Go shim, in this process.
	conn := sqltest.OpenWaiting(t, sqltest.DSN(filepath.Join(dir, "app.db"), walguard.VFSName))
	if err := conn.Exec("PRAGMA journal_mode=delete"); err == nil {
		t.Fatal("the Go shim left WAL")
	}
	var g map[string]any
	raw := sqltest.Query(t, conn, "PRAGMA walguard_status")
	if err := json.Unmarshal([]byte(raw), &g); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if ck, gk := keys(c, ""), keys(g, ""); strings.Join(ck, " ") != strings.Join(gk, " ") {
		t.Fatalf("walguard_status keys differ\nC:  %v\nGo: %v\nC's: %s", ck, gk, out)
	}
	lr := c["last_refusal"].(map[string]any)
	if lr["reason"] != "leaving WAL is deliberate" || lr["class"] != "incompatible" || lr["retryable"] != false {
		t.Fatalf("C's last_refusal: %v", lr)
	}
}

// keys lists the key paths of a decoded JSON value, objects inside lists
// included, sorted; maps that are keyed by data (refusals) count as leaves.
func keys(v any, prefix string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := prefix + "." + k
			out = append(out, p)
			if k != "refusals" {
				out = append(out, keys(e, p)...)
			}
		}
	case []any:
		for _, e := range x {
			out = append(out, keys(e, prefix+"[]")...)
		}
	}
	sort.Strings(out)
	return dedupe(out)
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// The helper module registers the VFS in a Python built without extension
// loading (the python3 first on PATH, pyenv's build here) through ctypes,
// and in Debian's python3 through load_extension; forced to ctypes, it
// works there too.
func TestPythonHelper(t *testing.T) {
	needLib(t)
	script := func(dir, via string) string {
		return fmt.Sprintf(`
import sys, sqlite3
sys.path.insert(0, "python")
import walguard_sqlite
how = walguard_sqlite.register(%q) if %q != "ctypes" else (walguard_sqlite._register_with_ctypes(%q, "sqlite3_walguard_init") or "ctypes")
db = sqlite3.connect("file:%s/app.db?vfs=walguard", uri=True)
print(how, hasattr(db, "enable_load_extension"), db.execute("PRAGMA journal_mode=wal").fetchone()[0])
`, libPath, via, libPath, dir)
	}
	deb := debianPython(t)
	if out := run(t, exec.Command(deb, "-c", script(t.TempDir(), ""))); strings.TrimSpace(out) != "load_extension True wal" {
		t.Fatalf("Debian's python3: %q", out)
	}
	if out := run(t, exec.Command(deb, "-c", script(t.TempDir(), "ctypes"))); strings.TrimSpace(out) != "ctypes True wal" {
		t.Fatalf("Debian's python3 forced to ctypes: %q", out)
	}
	path := need(t, "python3")
	out := run(t, exec.Command(path, "-c", script(t.TempDir(), "")))
	if fields := strings.Fields(out); len(fields) != 3 || fields[2] != "wal" || (fields[1] == "False") != (fields[0] == "ctypes") {
		t.Fatalf("%s: %q", path, out)
	}
	t.Logf("%s: %s", path, strings.TrimSpace(out))
}

// A child forked by a process holding walguard connections (Python
// multiprocessing, fork start method) does not keep the parent's
// participation alive: once the parent has closed its connection, the
// sidecar shows no participant while the child still runs; and the child
// can open a connection of its own.
func TestForkedChildLeavesNoParticipation(t *testing.T) {
	needLib(t)
	py := debianPython(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	c := startClient(t, dir, "", py, "-u", "-c", fmt.Sprintf(`
import multiprocessing as mp, sqlite3, sys
sys.path.insert(0, %q)
import walguard_sqlite
walguard_sqlite.register(%q)
def child(go, done):
    go.wait()
    own = sqlite3.connect("file:app.db?vfs=walguard", uri=True, timeout=5)
    own.execute("INSERT INTO t VALUES(2)")
    own.commit()
    own.close()
    done.set()
    go.wait()
if __name__ == "__main__":
    mp.set_start_method("fork")
    db = sqlite3.connect("file:app.db?vfs=walguard", uri=True)
    db.execute("PRAGMA journal_mode=wal")
    db.execute("CREATE TABLE t(x)")
    db.execute("INSERT INTO t VALUES(1)")
    db.commit()
    go, done = mp.Event(), mp.Event()
    p = mp.Process(target=child, args=(go, done))
    p.start()
    db.close()
    print("ready", p.pid, flush=True)
    sys.stdin.readline()
    go.set()
    done.wait()
    print("child wrote", flush=True)
    sys.stdin.readline()
    p.join()
    print("joined", p.exitcode, flush=True)
`, filepath.Join(mustAbs(t, "python")), libPath))
	st, err := sidecar.ReadStatus(db)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Participants) != 0 || len(st.Protocols) != 0 || len(st.Families) != 0 || st.ReplacedWhileInUse {
		t.Fatalf("after the parent closed, with its forked child alive: participants %+v, protocols %v, families %v, replaced %v",
			st.Participants, st.Protocols, st.Families, st.ReplacedWhileInUse)
	}
	c.send("\n")
	c.expect(t, "child wrote")
	c.send("\n")
	if line := c.expect(t, "joined"); line != "joined 0" {
		t.Fatalf("the child: %q", line)
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// debianPython is the system's python3, whose sqlite3 can load extensions.
func debianPython(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Fatalf("/usr/bin/python3 is needed (.ci/run installs python3): %v", err)
	}
	return "/usr/bin/python3"
}

// A client is a process driven through its stdin, synchronised on the
// lines it prints.
type client struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr strings.Builder
}

// startClient runs a program in dir with stdin text and waits for a line
// starting with "ready"; cleanup ends it.
func startClient(t *testing.T, dir, stdinText string, name string, args ...string) *client {
	t.Helper()
	return startClientEnv(t, dir, nil, stdinText, name, args...)
}

// startClientEnv is startClient with an environment (nil: this process's).
func startClientEnv(t *testing.T, dir string, env []string, stdinText string, name string, args ...string) *client {
	t.Helper()
	need(t, name)
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	c := &client{cmd: cmd, lines: make(chan string, 64)}
	cmd.Stderr = &c.stderr
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(c.stop)
	c.send(stdinText)
	c.expect(t, "ready")
	return c
}

func (c *client) pid() int { return c.cmd.Process.Pid }

func (c *client) send(s string) { io.WriteString(c.stdin, s) }

// expect waits for a line starting with prefix and returns it.
func (c *client) expect(t *testing.T, prefix string) string {
	t.Helper()
	timer := time.NewTimer(testproc.Timeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				t.Fatalf("%s exited before printing %q; stderr:\n%s", c.cmd.Args[0], prefix, c.stderr.String())
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-timer.C:
			t.Fatalf("%s did not print %q within %v", c.cmd.Args[0], prefix, testproc.Timeout)
		}
	}
}

func (c *client) stop() {
	if c.cmd.ProcessState != nil {
		return
	}
	c.stdin.Close()
	for range c.lines {
	}
	c.cmd.Wait()
}
