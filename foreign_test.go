package walguard_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/lockcheck"
	"github.com/walguard/walguard/policy"
	wgvfs "github.com/walguard/walguard/vfs"
)

// foreignClient is a process without walguard holding SQLite's locks.
type foreignClient struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

// startForeign runs a client without walguard and waits for its "ready"
// line; cleanup closes its stdin and waits for it.
func startForeign(t *testing.T, stdinText string, name string, args ...string) *foreignClient {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is needed for this interop test (.ci/run installs it): %v", name, err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &foreignClient{cmd: cmd, stdin: stdin, lines: make(chan string, 64)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(c.stop)
	if _, err := io.WriteString(stdin, stdinText); err != nil {
		t.Fatal(err)
	}
	timer := time.NewTimer(testproc.Timeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				t.Fatalf("%s exited before it was ready", name)
			}
			if strings.HasPrefix(line, "ready") {
				return c
			}
		case <-timer.C:
			t.Fatalf("%s did not get ready within %v", name, testproc.Timeout)
		}
	}
}

func (c *foreignClient) stop() {
	if c.cmd.ProcessState != nil {
		return
	}
	c.stdin.Close()
	for range c.lines {
	}
	c.cmd.Wait()
}

// Invariant 9: python3's sqlite3 module and the sqlite3 CLI, which hold
// SQLite's own (POSIX) locks and no slot, are seen at join: walguard_status
// and check list them as participants without walguard with pid and
// command; an OFD walguard connection is admitted beside them (POSIX and
// OFD locks see each other), and a flock-build walguard writer is refused
// until they have closed.
func TestParticipantsWithoutWalguard(t *testing.T) {
	flock := buildFlockChild(t)
	path := sqltest.TempDB(t)
	createTable(t, path, "wal")

	py := startForeign(t, "", "python3", "-u", "-c", fmt.Sprintf(`
import sqlite3, sys
c = sqlite3.connect(%q)
c.execute("SELECT count(*) FROM t").fetchall()
print("ready", flush=True)
sys.stdin.read()
`, path))
	cli := startForeign(t, "SELECT 'ready', count(*) FROM t;\n", "stdbuf", "-o0", "sqlite3", path)

	c := sqltest.OpenWaiting(t, sqltest.DSN(path, walguard.VFSName))
	sqltest.Exec(t, c, "INSERT INTO t VALUES('ofd', 0)") // admitted: POSIX holders are compatible
	var status struct {
		WithoutWalguard []lockcheck.ForeignParticipant `json:"without_walguard"`
	}
	raw := sqltest.Query(t, c, "PRAGMA walguard_status")
	if err := json.Unmarshal([]byte(raw), &status); err != nil {
		t.Fatalf("walguard_status: %v\n%s", err, raw)
	}
	r, err := lockcheck.Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	for where, list := range map[string][]lockcheck.ForeignParticipant{"walguard_status": status.WithoutWalguard, "check": r.WithoutWalguard} {
		want := map[int]string{py.cmd.Process.Pid: "python3", cli.cmd.Process.Pid: "sqlite3"}
		for _, f := range list {
			if want[f.PID] != "" && strings.HasPrefix(f.Command, want[f.PID]) && f.Protocol == "posix" && len(f.Locks) > 0 {
				delete(want, f.PID)
			}
		}
		if len(want) != 0 || len(list) != 2 {
			t.Fatalf("%s lists %+v without walguard; want exactly python3 (pid %d) and sqlite3 (pid %d)", where, list, py.cmd.Process.Pid, cli.cmd.Process.Pid)
		}
	}
	if text := checkText(t, r); !strings.Contains(text, "participants without walguard") || !strings.Contains(text, "python3") {
		t.Fatalf("check's text does not list them:\n%s", text)
	}
	c.Close() // now only the clients without walguard hold locks: no slot shows them

	fl := testproc.Start(t, flock, "writer", "WG_DB="+path, "WG_ID=flock", "WG_N=20")
	if got := fl.Expect("refused"); got != "refused "+policy.ReasonProtocolMismatch.String() {
		t.Fatalf("flock writer beside python3 and sqlite3: %q, want a protocol mismatch refusal", got)
	}
	py.stop()
	cli.stop()
	lines, err := fl.Wait()
	if err != nil || lines[len(lines)-1] != "done" {
		t.Fatalf("flock writer after the clients closed: %v, %q", err, lines)
	}
	c = sqltest.OpenWaiting(t, sqltest.DSN(path, "os"))
	if got := sqltest.Query(t, c, "PRAGMA integrity_check"); got != "ok" {
		t.Fatalf("integrity_check: %s", got)
	}
	if got := sqltest.Query(t, c, "SELECT count(*) FROM t WHERE writer = 'flock'"); got != "20" {
		t.Fatalf("flock rows %s, want 20", got)
	}
}

func checkText(t *testing.T, r *lockcheck.Report) string {
	t.Helper()
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func init() { childRoles["plainhold"] = childPlainHold }

// childPlainHold opens WG_DB on the plain os VFS, without walguard, reads
// it (a WAL connection keeps SHARED from then on), prints "ready" and
// holds the connection until its stdin closes.
func childPlainHold() {
	c, err := sqlite3.Open("file:" + os.Getenv("WG_DB") + "?vfs=os")
	if err != nil {
		childFatal("open: %v", err)
	}
	if err := c.Exec("SELECT count(*) FROM t"); err != nil {
		childFatal("read: %v", err)
	}
	fmt.Println("ready")
	testproc.WaitForEOF()
	c.Close()
}

// The flock probe: a process of the flock build without walguard holds
// SQLite's lock on a WAL database with flock(2); an OFD walguard
// connection, which would not see that lock, is refused until it closes,
// and check lists it.
func TestFlockHolderWithoutWalguardRefusesOFD(t *testing.T) {
	flock := buildFlockChild(t)
	path := sqltest.TempDB(t)
	createTable(t, path, "wal")
	holder := testproc.Start(t, flock, "plainhold", "WG_DB="+path)
	holder.Expect("ready")

	g := wgvfs.New(wgvfs.Options{})
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, sqltest.Register(t, g)))
	c.BusyTimeout(0)
	if err := c.Exec("INSERT INTO t VALUES('ofd', 1)"); err == nil {
		t.Fatal("an OFD writer was admitted beside a flock holder")
	}
	if r := g.LastRefusal(path); r == nil || r.Reason != policy.ReasonProtocolMismatch || !strings.Contains(r.Why, "flock") {
		t.Fatalf("refusal %v, want a protocol mismatch naming flock", r)
	}
	r, err := lockcheck.Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.WithoutWalguard) != 1 || r.WithoutWalguard[0].PID != holder.Pid() || r.WithoutWalguard[0].Protocol != "flock" {
		t.Fatalf("check lists %+v without walguard, want the flock holder (pid %d)", r.WithoutWalguard, holder.Pid())
	}
	holder.Wait()
	c.BusyTimeout(5 * time.Second)
	sqltest.Exec(t, c, "INSERT INTO t VALUES('ofd', 1)")
}
