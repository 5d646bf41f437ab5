//go:build unix

package walguard_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/internal/forward"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/lockcheck"
	"github.com/walguard/walguard/policy"
	wgvfs "github.com/walguard/walguard/vfs"
)

// Point 6: a switch killed at any write leaves an intent that is
// recognised, never a foreign flip. A base VFS kills the process (SIGKILL)
// at the Nth write of the switch: database, journal, WAL and sidecar
// writes and syncs alike.

func init() {
	childRoles["killswitch"] = childKillSwitch
}

// killerVFS counts writes while armed and SIGKILLs its own process at
// write number killAt.
type killerVFS struct {
	vfs.VFS
	armed  atomic.Bool
	writes atomic.Int64
	killAt int64
}

func (k *killerVFS) point(what string) {
	if !k.armed.Load() {
		return
	}
	if n := k.writes.Add(1); n == k.killAt {
		fmt.Println("killing at", what)
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}

func (k *killerVFS) Open(name string, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	return k.OpenFilename(nil, flags)
}

func (k *killerVFS) OpenFilename(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	f, flags, err := vfsutil.WrapOpenFilename(k.VFS, name, flags)
	if err != nil {
		return f, flags, err
	}
	return &killerFile{File: forward.File{File: f}, k: k}, flags, nil
}

func (k *killerVFS) Delete(name string, syncDir bool) error {
	k.point("delete " + name)
	return k.VFS.Delete(name, syncDir)
}

type killerFile struct {
	forward.File
	k *killerVFS
}

func (f *killerFile) WriteAt(p []byte, off int64) (int, error) {
	f.k.point(fmt.Sprintf("write %d bytes at %d", len(p), off))
	return f.File.WriteAt(p, off)
}

func (f *killerFile) Sync(flags vfs.SyncFlag) error {
	f.k.point("sync")
	return f.File.Sync(flags)
}

func (f *killerFile) Truncate(size int64) error {
	f.k.point("truncate")
	return f.File.Truncate(size)
}

// childKillSwitch switches WG_DB to WG_TO (wal through a plain pragma,
// delete through SetJournalMode) over a killerVFS that kills it at write
// WG_KILL_AT. It prints "done N" with the writes it counted if it lives.
func childKillSwitch() {
	db, to := os.Getenv("WG_DB"), os.Getenv("WG_TO")
	at, _ := strconv.ParseInt(os.Getenv("WG_KILL_AT"), 10, 64)
	k := &killerVFS{VFS: vfs.Find("os"), killAt: at}
	g := wgvfs.Register("killswitch", wgvfs.Options{Base: k, Program: "switcher",
		SidecarHook: func(op, path string) error {
			if op == "write" || op == "sync" {
				k.point("sidecar " + op)
			}
			return nil
		}})
	if to == "wal" {
		c, err := sqlite3.Open("file:" + db + "?vfs=killswitch")
		if err != nil {
			childFatal("open: %v", err)
		}
		if err := c.Exec("SELECT count(*) FROM t"); err != nil {
			childFatal("read: %v", err)
		}
		k.armed.Store(true)
		if err := c.Exec("PRAGMA journal_mode=wal"); err != nil {
			childFatal("journal_mode=wal: %v", err)
		}
		c.Close()
	} else {
		k.armed.Store(true)
		if err := g.SetJournalMode(context.Background(), db, policy.ModeDelete); err != nil {
			childFatal("SetJournalMode: %v", err)
		}
	}
	fmt.Println("done", k.writes.Load())
}

func TestSwitchKilledAtEveryWrite(t *testing.T) {
	for _, tc := range []struct{ from, to string }{{"delete", "wal"}, {"wal", "delete"}} {
		t.Run(tc.from+" to "+tc.to, func(t *testing.T) {
			interrupted := 0
			for at := 1; ; at++ {
				path := startDatabase(t, tc.from)
				seed := sqltest.OpenWaiting(t, sqltest.DSN(path, "walguard"))
				sqltest.Exec(t, seed, "INSERT INTO t VALUES('seed', 1), ('seed', 2)")
				seed.Close()

				child := testproc.Start(t, os.Args[0], "killswitch", "WG_DB="+path, "WG_TO="+tc.to, fmt.Sprint("WG_KILL_AT=", at))
				lines, err := child.Wait()
				finished := err == nil
				if !finished && !strings.Contains(strings.Join(lines, "\n"), "killing at") {
					t.Fatalf("kill at %d: the child failed: %v %q", at, err, lines)
				}
				where := strings.Join(lines, "; ")
				report, ierr := lockcheck.Inspect(path)
				if ierr != nil {
					t.Fatal(ierr)
				}
				for _, h := range report.Hazards {
					switch h.Code {
					case lockcheck.HazardInterruptedSwitch:
						interrupted++
						want := fmt.Sprintf("interrupted switch by switcher pid %d", child.Pid())
						if !strings.Contains(h.Message, want) || h.Advice == "" {
							t.Fatalf("kill at %d (%s): check says %q, want %q with advice", at, where, h.Message, want)
						}
					case lockcheck.HazardFamilyMismatch:
						t.Fatalf("kill at %d (%s): check blames a foreign flip: %s", at, where, h.Message)
					}
				}

				// The next open, under the strictest policy, reads and writes,
				// rolls back or completes as SQLite does, and sees no foreign flip.
				strict := policy.Default()
				strict.ForeignFlip = policy.FlipRefuse
				g := wgvfs.New(wgvfs.Options{Policy: &strict})
				c := sqltest.OpenWaiting(t, sqltest.DSN(path, sqltest.Register(t, g)))
				if got := sqltest.Query(t, c, "PRAGMA integrity_check"); got != "ok" {
					t.Fatalf("kill at %d (%s): integrity %s", at, where, got)
				}
				if got := sqltest.Query(t, c, "SELECT count(*) FROM t"); got != "2" {
					t.Fatalf("kill at %d (%s): %s rows, want 2", at, where, got)
				}
				sqltest.Exec(t, c, "INSERT INTO t VALUES('after', 3)")
				st, _ := g.Status(path)
				header := policy.FamilyOfHeader(sqltest.HeaderFamily(t, path), sqltest.HeaderFamily(t, path))
				if g.Stats().ForeignFlips != 0 || len(g.Stats().Refusals) != 0 {
					t.Fatalf("kill at %d (%s): stats %+v after the interrupted switch", at, where, g.Stats())
				}
				if r := st.Sidecar.Record; r == nil || r.Switch.Pending || r.Family != header {
					t.Fatalf("kill at %d (%s): record %v, header %s; want the intent resolved to the header", at, where, r, header)
				}
				c.Close()
				t.Logf("kill at %d: %s; record after the next open: %v", at, where, st.Sidecar.Record)
				if finished {
					if header.String() != map[string]string{"wal": "wal", "delete": "rollback"}[tc.to] {
						t.Fatalf("the switch that ran to its end left header %s", header)
					}
					break
				}
			}
			if interrupted == 0 {
				t.Fatal("no kill left an interrupted switch for check to report: the test proves nothing")
			}
		})
	}
}
