package walguard_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/lockcheck"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

var linksVFS struct {
	once sync.Once
	g    *wgvfs.VFS
}

// childVFS is the VFS a writer child uses: the default one, or with
// WG_ALLOW_LINKS=1 one whose policy admits a database with several names.
func childVFS() (string, *wgvfs.VFS) {
	if os.Getenv("WG_ALLOW_LINKS") != "1" {
		return walguard.VFSName, walguard.Default
	}
	linksVFS.once.Do(func() {
		p := policy.Default()
		p.AllowHardLinks = true
		linksVFS.g = walguard.Register("walguard-links", walguard.Options{Policy: &p})
	})
	return "walguard-links", linksVFS.g
}

// mixedWriters runs an OFD-build writer on ofdPath until its first row,
// calls between (which may remove or replace the sidecar), starts a
// flock-build writer on flockPath, which must be refused for the protocol
// while the first is live, then lets both finish. It checks integrity and
// that every acknowledged row is in the table.
func mixedWriters(t *testing.T, ofdPath, flockPath string, between func(), env ...string) {
	t.Helper()
	flock := buildFlockChild(t)
	const rows = 150
	ofd := testproc.Start(t, os.Args[0], "writer", append(env, "WG_DB="+ofdPath, "WG_ID=ofd", fmt.Sprint("WG_N=", rows), "WG_WAIT=1")...)
	ofd.Expect("ready")
	between()
	fl := testproc.Start(t, flock, "writer", append(env, "WG_DB="+flockPath, "WG_ID=flock", fmt.Sprint("WG_N=", rows))...)
	if got := fl.Expect("refused"); got != "refused "+policy.ReasonProtocolMismatch.String() {
		t.Fatalf("flock writer: %q, want a protocol mismatch refusal while the OFD writer is live", got)
	}
	ofd.Send("go")
	acked := map[string]int{}
	for id, w := range map[string]*testproc.Child{"ofd": ofd, "flock": fl} {
		lines, err := w.Wait()
		if err != nil {
			t.Fatalf("%s writer: %v", id, err)
		}
		for _, l := range lines {
			if strings.HasPrefix(l, "ack ") {
				acked[id]++
			}
		}
	}
	c := sqltest.OpenWaiting(t, sqltest.DSN(ofdPath, "os"))
	if got := sqltest.Query(t, c, "PRAGMA integrity_check"); got != "ok" {
		t.Fatalf("integrity_check: %s", got)
	}
	for _, id := range []string{"ofd", "flock"} {
		got := sqltest.Query(t, c, fmt.Sprintf("SELECT count(*) FROM t WHERE writer = '%s'", id))
		if got != fmt.Sprint(acked[id]) || acked[id] != rows {
			t.Errorf("%s rows: %s in the table, %d acknowledged, %d written", id, got, acked[id], rows)
		}
	}
}

// wantHazard runs walguard check's inspector and wants the hazard code.
func wantHazard(t *testing.T, path, code, text string) {
	t.Helper()
	r, err := lockcheck.Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range r.Hazards {
		if h.Code == code && strings.Contains(h.Message, text) {
			return
		}
	}
	t.Fatalf("check %s: hazards %+v, want %s saying %q", path, r.Hazards, code, text)
}

// Invariant 9: removing the sidecar while participants are live does not
// let a second locking protocol in; check reports the replacement.
func TestSidecarRemovedWhileInUse(t *testing.T) {
	for _, mode := range []string{"delete", "wal"} {
		t.Run(mode, func(t *testing.T) {
			path := sqltest.TempDB(t)
			createTable(t, path, mode)
			mixedWriters(t, path, path, func() {
				if err := os.Remove(sidecar.SidecarPath(path)); err != nil {
					t.Fatal(err)
				}
				wantHazard(t, path, lockcheck.HazardSidecarReplaced, "sidecar replaced while in use")
			})
			st, err := walguard.Status(path)
			if err != nil || st.Sidecar.Record == nil || st.Sidecar.Record.Reason != policy.ReasonSidecarReplaced {
				t.Fatalf("the fresh record %+v (%v), want its reason to say the sidecar was replaced while in use", st.Sidecar.Record, err)
			}
		})
	}
}

// The same when a restore renames an old copy over the sidecar.
func TestSidecarRenamedOverWhileInUse(t *testing.T) {
	path := sqltest.TempDB(t)
	createTable(t, path, "delete")
	side := sidecar.SidecarPath(path)
	copyFile(t, side, side+".bak") // an old copy, as a backup would have it
	mixedWriters(t, path, path, func() {
		if err := os.Rename(side+".bak", side); err != nil {
			t.Fatal(err)
		}
		wantHazard(t, path, lockcheck.HazardSidecarReplaced, "sidecar replaced while in use")
	})
}

// One database, one name: a file with two hard links is refused for
// writing by default, and check says why; with policy.AllowHardLinks the
// declarations still hold across the names (they are mirrored on the
// file), so an OFD writer through one name keeps a flock writer through
// the other out until it closes.
func TestHardLinkedDatabase(t *testing.T) {
	a := sqltest.TempDB(t)
	createTable(t, a, "delete")
	b := filepath.Join(filepath.Dir(a), "b.db")
	if err := os.Link(a, b); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{a, b} {
		_, err := walguard.Status(p) // readers are not refused
		if err != nil {
			t.Fatal(err)
		}
		c, err := sqlite3.Open(sqltest.DSN(p, walguard.VFSName))
		if err == nil {
			c.Close()
			t.Fatalf("read-write open of %s with two names succeeded", p)
		}
		if r := walguard.Default.LastRefusal(p); r == nil || r.Reason != policy.ReasonHardLinks || !strings.Contains(err.Error(), "2 names") {
			t.Fatalf("open %s: %v, refusal %v; want the several-names refusal", p, err, r)
		}
	}
	ro := sqltest.OpenWaiting(t, sqltest.DSN(b, walguard.VFSName, "mode=ro"))
	if got := sqltest.Query(t, ro, "SELECT count(*) FROM t"); got != "0" {
		t.Fatalf("read-only through the second name: %s", got)
	}
	ro.Close()
	wantHazard(t, b, lockcheck.HazardSeveralNames, "2 names")
	mixedWriters(t, a, b, func() {}, "WG_ALLOW_LINKS=1")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
