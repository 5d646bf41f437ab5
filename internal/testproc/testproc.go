// Package testproc runs the test binary again as a child process, for tests
// that need real processes: locks, kills and protocols are per process, and
// goroutines cannot stand in for them.
//
// A test binary dispatches in TestMain:
//
//	func TestMain(m *testing.M) {
//		testproc.Dispatch(map[string]func(){"writer": writerMain})
//		os.Exit(m.Run())
//	}
//
// and a test starts a child with Start, then synchronises on the lines the
// child prints (Expect), never on time.
package testproc

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// RoleEnv names the environment variable that selects a child's role.
const RoleEnv = "WALGUARD_TEST_CHILD"

// Dispatch runs the child role named by RoleEnv, if any, and exits with
// its status; it returns at once in the parent.
func Dispatch(roles map[string]func()) {
	role := os.Getenv(RoleEnv)
	if role == "" {
		return
	}
	run, ok := roles[role]
	if !ok {
		fmt.Fprintf(os.Stderr, "testproc: unknown role %q\n", role)
		os.Exit(3)
	}
	run()
	os.Exit(0)
}

// Child is a running child process.
type Child struct {
	t     testing.TB
	Name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan error
	all   []string
}

// Start runs bin (os.Args[0] for the test binary itself) as a child with
// the given role and extra environment. The child is killed at cleanup if
// it is still running.
func Start(t testing.TB, bin, role string, env ...string) *Child {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(append(os.Environ(), RoleEnv+"="+role), env...)
	cmd.Stderr = &prefixWriter{prefix: role + ": "}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", role, err)
	}
	c := &Child{t: t, Name: role, cmd: cmd, stdin: stdin, lines: make(chan string, 1024), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		c.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	return c
}

// Timeout bounds every wait on a child; a child that says nothing for
// this long has hung, and the test fails instead of hanging CI.
var Timeout = 2 * time.Minute

// Expect reads the child's lines until one starts with prefix and returns
// it; it fails the test if the child exits or stays silent too long.
func (c *Child) Expect(prefix string) string {
	c.t.Helper()
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("%s exited before printing %q; it printed %q", c.Name, prefix, c.all)
			}
			c.all = append(c.all, line)
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-timer.C:
			c.t.Fatalf("%s printed no %q within %v; it printed %q", c.Name, prefix, Timeout, c.all)
		}
	}
}

// Send writes one line to the child's standard input.
func (c *Child) Send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		c.t.Fatalf("send to %s: %v", c.Name, err)
	}
}

// Wait closes the child's standard input, drains its output, and waits
// for it to exit; it returns every line the child printed.
func (c *Child) Wait() ([]string, error) {
	c.t.Helper()
	c.stdin.Close()
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-c.lines:
			if ok {
				c.all = append(c.all, line)
				continue
			}
			select {
			case err := <-c.done:
				return c.all, err
			case <-timer.C:
				c.t.Fatalf("%s did not exit within %v", c.Name, Timeout)
			}
		case <-timer.C:
			c.t.Fatalf("%s did not exit within %v", c.Name, Timeout)
		}
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (c *Child) Kill() {
	c.t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		c.t.Fatalf("kill %s: %v", c.Name, err)
	}
	c.Wait()
}

// Pid returns the child's process id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// WaitForEOF blocks a child until its parent closes its standard input.
func WaitForEOF() { io.Copy(io.Discard, stdin) }

var stdin = bufio.NewReader(os.Stdin)

// ReadLine reads one line from the child's standard input ("" at EOF).
func ReadLine() string {
	line, _ := stdin.ReadString('\n')
	return strings.TrimSpace(line)
}

// prefixWriter copies a child's standard error to ours, line by line with
// the role in front; t.Log cannot be used, as a child may outlive its test.
type prefixWriter struct{ prefix string }

func (w *prefixWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		fmt.Fprintln(os.Stderr, w.prefix+line)
	}
	return len(p), nil
}
