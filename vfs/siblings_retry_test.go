package vfs_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

// inStack reports whether the calling goroutine's stack holds fn.
func inStack(fn string) bool {
	buf := make([]byte, 64<<10)
	return bytes.Contains(buf[:runtime.Stack(buf, false)], []byte(fn))
}

// closeParkedInTurn reports whether some goroutine is inside
// mainFile.Close and waiting for its process's turn at the agreement byte.
func closeParkedInTurn() bool {
	buf := make([]byte, 1<<20)
	for _, g := range bytes.Split(buf[:runtime.Stack(buf, true)], []byte("\n\n")) {
		if bytes.Contains(g, []byte("(*mainFile).Close")) && bytes.Contains(g, []byte("(*connSide).turn")) {
			return true
		}
	}
	return false
}

// TestCloseRetryOfEndSwitchSparesASiblingsNewerIntent: a connection (A)
// whose end of switch failed retries it at Close unless a sibling has an
// intent recorded (SwitchingHere). A sibling (B) that records its own
// intent, under the same pid and slot, between Close's first look and A's
// turn at the agreement byte must keep it: the retry asks again under the
// turn (endSwitch), where intents are recorded.
//
// A switches rollback -> WAL and its end fails, so it still declares
// rollback under a WAL header; B (WAL) then leaves WAL with
// DowngradeWhenAlone (no other participant uses WAL). A closes while B
// holds the turn writing its intent. The interleaving is forced with the
// sidecar hook and by waiting for A's goroutine to park on the turn
// (goroutine stacks, no sleep).
func TestCloseRetryOfEndSwitchSparesASiblingsNewerIntent(t *testing.T) {
	path := tempDB(t)
	c := openConn(t, dsn(path, "os"))
	mustExec(t, c, "PRAGMA journal_mode=delete; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	c.Close()

	var (
		failEnd, failed atomic.Bool // fail A's first end of switch
		armB            atomic.Bool // at B's intent write: close A
		started         sync.Once
		closeA          func()
		aWroteRecord    atomic.Bool // A's Close synced a record write
		aWrote          atomic.Value
		before          atomic.Value
		notParked       atomic.Bool
	)
	hook := func(op, _ string) error {
		if failEnd.Load() && op == "lock" && !failed.Load() && inStack("endSwitch") {
			failed.Store(true)
			return errors.New("injected: agreement lock failed at end of switch")
		}
		if op == "write" && inStack("(*mainFile).Close") {
			if st, err := sidecar.ReadStatus(path); err == nil && st.Record != nil {
				before.Store(st.Record.String() + fmt.Sprintf(" (intent pending: %v, to %s)", st.Record.Switch.Pending, st.Record.Family))
			}
		}
		if op == "sync" && inStack("(*mainFile).Close") {
			aWroteRecord.Store(true)
			if st, err := sidecar.ReadStatus(path); err == nil && st.Record != nil {
				aWrote.Store(st.Record.String() + fmt.Sprintf(" (intent pending: %v)", st.Record.Switch.Pending))
			}
			return nil
		}
		if armB.Load() && op == "sync" && inStack("recordHeaderWrite") {
			// B holds the turn and has written its intent, not yet
			// counted it (SetSwitching): A's Close makes its test now
			// and waits for the turn.
			started.Do(func() {
				go closeA()
				// A bound, not a wait: a renamed function would
				// otherwise hang the test instead of failing it.
				deadline := time.Now().Add(30 * time.Second)
				for !closeParkedInTurn() {
					if time.Now().After(deadline) {
						notParked.Store(true)
						return
					}
					runtime.Gosched()
				}
			})
		}
		return nil
	}
	p := policy.Default()
	p.DowngradeWhenAlone = true
	name, _ := registerTestVFS(t, wgvfs.Options{SidecarHook: hook, Policy: &p})

	a := openConn(t, dsn(path, name))
	mustQuery(t, a, "SELECT x FROM t")
	failEnd.Store(true)
	if got := mustQuery(t, a, "PRAGMA journal_mode=wal"); got != "wal" {
		t.Fatalf("A's switch: %s", got)
	}
	failEnd.Store(false)
	if !failed.Load() {
		t.Fatal("A's end of switch was never attempted")
	}

	b := openConn(t, dsn(path, name))
	defer b.Close()
	mustQuery(t, b, "SELECT x FROM t")

	done := make(chan error, 1)
	closeA = func() { done <- a.Close() }
	armB.Store(true)
	got := sqltest.Query(t, b, "PRAGMA journal_mode=delete")
	armB.Store(false)
	if got != "delete" {
		t.Fatalf("B's switch to delete: %s", got)
	}
	ran := true
	started.Do(func() { ran = false })
	if !ran {
		t.Fatal("B's switch never wrote an intent")
	}
	if notParked.Load() {
		t.Fatal("setup: A's Close was never seen waiting for the process's turn (goroutine stacks)")
	}
	if err := <-done; err != nil {
		t.Fatalf("closing A: %v", err)
	}
	if aWroteRecord.Load() {
		st, _ := sidecar.ReadStatus(path)
		t.Errorf("A's Close retried its end of switch and rewrote the record while its sibling B's switch to rollback (same pid and slot) was under way: record before A's write %v; A wrote %v; record at the end %v", before.Load(), aWrote.Load(), st.Record)
	}
}
