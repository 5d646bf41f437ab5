package faultvfs_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/faultvfs"
)

// accessPattern makes n Access calls on name and returns which failed, as a
// string of 'x' (failed) and '.' (passed).
func accessPattern(t *testing.T, fv *faultvfs.VFS, name string, n int) string {
	t.Helper()
	var b strings.Builder
	for range n {
		if _, err := fv.Access(name, vfs.ACCESS_EXISTS); err != nil {
			b.WriteByte('x')
		} else {
			b.WriteByte('.')
		}
	}
	return b.String()
}

func TestSkipCountProbability(t *testing.T) {
	name := filepath.Join(t.TempDir(), "app.db")
	tests := []struct {
		name string
		rule faultvfs.Rule
		want func(t *testing.T, pattern string)
	}{
		{"always", faultvfs.Rule{Ops: faultvfs.OpAccess}, func(t *testing.T, p string) {
			if p != strings.Repeat("x", len(p)) {
				t.Errorf("pattern %s, want every call failed", p)
			}
		}},
		{"skip and count", faultvfs.Rule{Ops: faultvfs.OpAccess, Skip: 3, Count: 2}, func(t *testing.T, p string) {
			if want := "...xx" + strings.Repeat(".", len(p)-5); p != want {
				t.Errorf("pattern %s, want %s", p, want)
			}
		}},
		{"negative skip and count mean zero", faultvfs.Rule{Ops: faultvfs.OpAccess, Skip: -1, Count: -1}, func(t *testing.T, p string) {
			if p != strings.Repeat("x", len(p)) {
				t.Errorf("pattern %s, want every call failed", p)
			}
		}},
		{"probability one is always", faultvfs.Rule{Ops: faultvfs.OpAccess, Probability: 1}, func(t *testing.T, p string) {
			if p != strings.Repeat("x", len(p)) {
				t.Errorf("pattern %s, want every call failed", p)
			}
		}},
		{"probability with skip and count", faultvfs.Rule{Ops: faultvfs.OpAccess, Skip: 5, Count: 10, Probability: 0.5}, func(t *testing.T, p string) {
			if !strings.HasPrefix(p, ".....") || strings.Count(p, "x") != 10 {
				t.Errorf("pattern %s, want 5 passes then exactly 10 failures among the rest", p)
			}
			if strings.Contains(p[5:], strings.Repeat("x", 10)) {
				t.Errorf("pattern %s: probability 0.5 failed 10 calls in a row", p)
			}
		}},
		{"other ops do not match", faultvfs.Rule{Ops: faultvfs.OpOpen | faultvfs.OpDelete}, func(t *testing.T, p string) {
			if p != strings.Repeat(".", len(p)) {
				t.Errorf("pattern %s, want no failure", p)
			}
		}},
		{"zero ops match nothing", faultvfs.Rule{}, func(t *testing.T, p string) {
			if p != strings.Repeat(".", len(p)) {
				t.Errorf("pattern %s, want no failure", p)
			}
		}},
		{"other kinds do not match", faultvfs.Rule{Ops: faultvfs.OpAccess, Kinds: faultvfs.KindWAL | faultvfs.KindJournal}, func(t *testing.T, p string) {
			if p != strings.Repeat(".", len(p)) {
				t.Errorf("pattern %s, want no failure", p)
			}
		}},
		{"suffix matches", faultvfs.Rule{Ops: faultvfs.OpAccess, PathSuffix: "app.db"}, func(t *testing.T, p string) {
			if p != strings.Repeat("x", len(p)) {
				t.Errorf("pattern %s, want every call failed", p)
			}
		}},
		{"suffix does not match", faultvfs.Rule{Ops: faultvfs.OpAccess, PathSuffix: "other.db"}, func(t *testing.T, p string) {
			if p != strings.Repeat(".", len(p)) {
				t.Errorf("pattern %s, want no failure", p)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fv := faultvfs.New(vfs.Find("os"), 1)
			fv.Add(tt.rule)
			tt.want(t, accessPattern(t, fv, name, 60))
		})
	}
}

func TestSameSeedSameInjections(t *testing.T) {
	name := filepath.Join(t.TempDir(), "app.db")
	run := func(seed int64) (string, string) {
		fv := faultvfs.New(vfs.Find("os"), seed)
		fv.Add(faultvfs.Rule{Name: "a", Ops: faultvfs.OpAccess, Skip: 2, Count: 40, Probability: 0.4})
		fv.Add(faultvfs.Rule{Name: "b", Ops: faultvfs.OpAccess, Probability: 0.2})
		return accessPattern(t, fv, name, 200), fv.Stats().String()
	}
	p1, s1 := run(42)
	p2, s2 := run(42)
	p3, _ := run(43)
	if p1 != p2 || s1 != s2 {
		t.Fatalf("seed 42 twice:\n%s\n%s\n%s\n%s", p1, p2, s1, s2)
	}
	if p1 == p3 {
		t.Fatalf("seeds 42 and 43 gave the same pattern %s", p1)
	}
	if strings.Count(p1, "x") <= 40 {
		t.Fatalf("pattern %s: rule b never injected after rule a ran out", p1)
	}
}

func TestFirstInjectingRuleWins(t *testing.T) {
	name := filepath.Join(t.TempDir(), "app.db")
	fv := faultvfs.New(vfs.Find("os"), 1)
	fv.Add(faultvfs.Rule{Name: "first", Ops: faultvfs.OpAccess, Skip: 1, Count: 1})
	fv.Add(faultvfs.Rule{Name: "second", Ops: faultvfs.OpAccess, Err: syscall.ENOSPC})

	var got []string
	for range 3 {
		_, err := fv.Access(name, vfs.ACCESS_EXISTS)
		var inj *faultvfs.InjectedError
		switch {
		case errors.As(err, &inj):
			got = append(got, inj.Rule)
		case errors.Is(err, syscall.ENOSPC):
			got = append(got, "custom")
		default:
			got = append(got, "?")
		}
	}
	// Call 1: first skips, second fails it. Call 2: first fails it, second
	// does not see it. Call 3: first is spent.
	if strings.Join(got, ",") != "custom,first,custom" {
		t.Fatalf("failures %v", got)
	}
	st := fv.Stats()
	if r, _ := st.Rule("first"); r.Matched != 3 || r.Injected != 1 {
		t.Errorf("first: %+v", r)
	}
	if r, _ := st.Rule("second"); r.Matched != 2 || r.Injected != 2 {
		t.Errorf("second: %+v", r)
	}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func TestWindow(t *testing.T) {
	name := filepath.Join(t.TempDir(), "app.db")
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	fv := faultvfs.New(vfs.Find("os"), 1)
	fv.SetClock(clock.Now)
	fv.Add(faultvfs.Rule{Name: "burst", Ops: faultvfs.OpAccess, Skip: 1, Window: 50 * time.Millisecond})

	steps := []struct {
		advance time.Duration
		fail    bool
	}{
		{0, false},                    // skipped
		{time.Second, true},           // first injection opens the window
		{10 * time.Millisecond, true}, // +10ms
		{39 * time.Millisecond, true}, // +49ms
		{time.Millisecond, false},     // +50ms: closed
		{-time.Millisecond, true},     // a clock that goes back is inside again
		{time.Hour, false},            // long closed
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		_, err := fv.Access(name, vfs.ACCESS_EXISTS)
		if (err != nil) != s.fail {
			t.Fatalf("step %d: err = %v, want failure %v", i, err, s.fail)
		}
	}
	if r, _ := fv.Stats().Rule("burst"); r.Injected != 4 || r.Matched != int64(len(steps)) {
		t.Fatalf("stats %+v", r)
	}

	// SetClock(nil) restores the real clock: the window, opened in 2025,
	// has long passed.
	fv.SetClock(nil)
	if _, err := fv.Access(name, vfs.ACCESS_EXISTS); err != nil {
		t.Fatalf("real clock: %v", err)
	}
}

func TestRemoveAndClear(t *testing.T) {
	name := filepath.Join(t.TempDir(), "app.db")
	fv := faultvfs.New(vfs.Find("os"), 1)
	a := fv.Add(faultvfs.Rule{Name: "a", Ops: faultvfs.OpAccess, Count: 1})
	b := fv.Add(faultvfs.Rule{Ops: faultvfs.OpDelete})
	if a == b {
		t.Fatalf("two rules share id %v", a)
	}
	if p := accessPattern(t, fv, name, 2); p != "x." {
		t.Fatalf("pattern %s", p)
	}
	fv.Remove(a)
	fv.Remove(a)     // twice is harmless
	fv.Remove(12345) // unknown too
	if err := fv.Delete(name, false); !errors.Is(err, faultvfs.ErrInjected) {
		t.Fatalf("delete: %v, want the unnamed rule's fault", err)
	}
	st := fv.Stats()
	if r, ok := st.Rule("a"); !ok || r.Injected != 1 {
		t.Fatalf("removed rule's stats lost: %v", st)
	}
	unnamed := "rule-" + strconv.FormatUint(uint64(b), 10)
	if r, ok := st.Rule(unnamed); !ok || r.Injected != 1 {
		t.Fatalf("no stats for %q: %v", unnamed, st)
	}
	fv.Clear()
	if st := fv.Stats(); st.Calls != 0 || len(st.Rules) != 0 {
		t.Fatalf("stats after Clear: %v", st)
	}
	if err := fv.Delete(name, false); errors.Is(err, faultvfs.ErrInjected) {
		t.Fatalf("delete after Clear: %v", err)
	}
}

func TestDefaultErrorShapes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db-wal")
	fv := faultvfs.New(vfs.Find("os"), 1)
	fv.Add(faultvfs.Rule{Name: "wal-eio", Ops: faultvfs.OpAll, Kinds: faultvfs.KindWAL | faultvfs.KindSidecar})

	_, err := fv.Access(path, vfs.ACCESS_EXISTS)
	want := `faultvfs: rule "wal-eio": injected EIO on access of ` + path
	if err == nil || err.Error() != want {
		t.Fatalf("access: %v, want %q", err, want)
	}

	err = fv.Delete(path, false)
	if err == nil || !strings.Contains(err.Error(), "injected EIO on delete of "+path) {
		t.Fatalf("delete: %v", err)
	}

	side := filepath.Join(dir, "app.db-walguard")
	err = fv.SidecarFault(faultvfs.OpWrite, side)
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Op != "write" || pe.Path != side || !errors.Is(err, syscall.EIO) || !errors.Is(err, faultvfs.ErrInjected) {
		t.Fatalf("sidecar write: %#v", err)
	}
	err = fv.SidecarFault(faultvfs.OpLock, side)
	if !errors.Is(err, syscall.EIO) || errors.As(err, &pe) {
		t.Fatalf("sidecar lock: %#v, want a bare EIO underneath, as fcntl gives", err)
	}

	// A nameless file is named by its kind.
	nameless := &faultvfs.InjectedError{Rule: "r", Op: faultvfs.OpWrite, Kind: faultvfs.KindTemp}
	if got := nameless.Error(); got != `faultvfs: rule "r": injected EIO on write of a nameless temp file` {
		t.Fatalf("nameless: %q", got)
	}
}

func TestSidecarFault(t *testing.T) {
	side := filepath.Join(t.TempDir(), "app.db-walguard")
	fv := faultvfs.New(vfs.Find("os"), 1)
	fv.Add(faultvfs.Rule{Name: "main", Ops: faultvfs.OpAll, Kinds: faultvfs.KindMainDB})
	fv.Add(faultvfs.Rule{Name: "sidecar-open", Ops: faultvfs.OpOpen, Kinds: faultvfs.KindSidecar, Count: 1})

	hook := fv.SidecarHook()
	if err := hook("read", side); err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := hook("open", side); !errors.Is(err, faultvfs.ErrInjected) {
		t.Fatalf("first open: %v", err)
	}
	if err := fv.SidecarFault(faultvfs.OpOpen, side); err != nil {
		t.Fatalf("second open: %v", err)
	}
	if err := hook("fsync-twice", side); err == nil {
		t.Fatal("unknown op name accepted")
	}
	for _, op := range []faultvfs.Op{0, faultvfs.OpRead | faultvfs.OpWrite, 1 << 20} {
		if err := fv.SidecarFault(op, side); err == nil || errors.Is(err, faultvfs.ErrInjected) {
			t.Fatalf("SidecarFault(%v) = %v, want a usage error", op, err)
		}
	}
	st := fv.Stats()
	if k := st.Kind(faultvfs.KindSidecar); k.Calls != 3 || k.Injected != 1 {
		t.Fatalf("sidecar kind: %+v", k)
	}
	if r, _ := st.Rule("main"); r.Matched != 0 {
		t.Fatalf("main-db rule saw sidecar calls: %+v", r)
	}
}

func TestKinds(t *testing.T) {
	byName := map[string]faultvfs.Kind{
		"/x/app.db":             faultvfs.KindMainDB,
		"/x/app.db-journal":     faultvfs.KindJournal,
		"/x/app.db-wal":         faultvfs.KindWAL,
		"/x/app.db-walguard":    faultvfs.KindSidecar,
		"/x/app.db-shm":         faultvfs.KindOther,
		"/x/app.db-mj0A1B2C9FF": faultvfs.KindSuperJournal,
		"/x/app.db-mj0A1B2C8FF": faultvfs.KindMainDB,
		"/x/app.db-mjzzzzzz9FF": faultvfs.KindMainDB,
		"":                      faultvfs.KindTemp,
		"mj":                    faultvfs.KindMainDB,
	}
	for name, want := range byName {
		if got := faultvfs.KindOfName(name); got != want {
			t.Errorf("KindOfName(%q) = %v, want %v", name, got, want)
		}
	}
	byFlags := []struct {
		name  string
		flags vfs.OpenFlag
		want  faultvfs.Kind
	}{
		{"/x/a.db", vfs.OPEN_MAIN_DB | vfs.OPEN_READWRITE, faultvfs.KindMainDB},
		{"/x/a.db-journal", vfs.OPEN_MAIN_JOURNAL, faultvfs.KindJournal},
		{"/x/a.db-wal", vfs.OPEN_WAL, faultvfs.KindWAL},
		{"/x/a.db-mj01", vfs.OPEN_SUPER_JOURNAL, faultvfs.KindSuperJournal},
		{"/x/t", vfs.OPEN_TEMP_DB, faultvfs.KindTemp},
		{"/x/t", vfs.OPEN_TEMP_JOURNAL, faultvfs.KindTemp},
		{"/x/t", vfs.OPEN_SUBJOURNAL, faultvfs.KindTemp},
		{"/x/t", vfs.OPEN_TRANSIENT_DB, faultvfs.KindTemp},
		{"", vfs.OPEN_MAIN_DB, faultvfs.KindTemp},
		{"/x/t", vfs.OPEN_READWRITE, faultvfs.KindOther},
	}
	for _, tt := range byFlags {
		if got := faultvfs.KindOfOpen(tt.name, tt.flags); got != tt.want {
			t.Errorf("KindOfOpen(%q, %#x) = %v, want %v", tt.name, tt.flags, got, tt.want)
		}
	}
}

func TestNames(t *testing.T) {
	for _, tt := range []struct {
		got, want string
	}{
		{faultvfs.OpOpen.String(), "open"},
		{faultvfs.OpCheckReservedLock.String(), "checkreservedlock"},
		{(faultvfs.OpRead | faultvfs.OpWrite).String(), "read|write"},
		{faultvfs.Op(0).String(), "none"},
		{(faultvfs.OpSync | 1<<30).String(), "sync|Op(0x40000000)"},
		{faultvfs.KindWAL.String(), "wal"},
		{faultvfs.KindAll.String(), "main-db|journal|wal|temp|super-journal|sidecar|other"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	for op := faultvfs.Op(1); op&faultvfs.OpAll != 0; op <<= 1 {
		got, err := faultvfs.ParseOp(strings.ToUpper(op.String()))
		if err != nil || got != op {
			t.Errorf("ParseOp(%q) = %v, %v", op, got, err)
		}
	}
	if _, err := faultvfs.ParseOp("read|write"); err == nil {
		t.Error("ParseOp accepted a set")
	}
}
