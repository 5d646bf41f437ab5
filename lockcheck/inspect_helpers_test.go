package lockcheck

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/internal/sqltest"
)

// dbPath returns a database path in a fresh directory, as SQLite names it.
var dbPath = sqltest.TempDB

// openDB opens path on ncruces's os VFS (OFD locks), runs sql, and keeps
// the connection open until the test ends.
func openDB(t testing.TB, path string, sql ...string) *sqlite3.Conn {
	t.Helper()
	c := sqltest.OpenWaiting(t, "file:"+path)
	for _, q := range sql {
		sqltest.Exec(t, c, q)
	}
	return c
}

// newDB creates a database, runs sql and closes it: no -wal, -shm or
// -journal is left.
func newDB(t testing.TB, sql ...string) string {
	t.Helper()
	path := dbPath(t)
	c := openDB(t, path, sql...)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// inspect runs Inspect and fails the test on an error.
func inspect(t testing.TB, path string) *Report {
	t.Helper()
	r, err := Inspect(path)
	if err != nil {
		t.Fatalf("Inspect(%s): %v", path, err)
	}
	return r
}

// inspectUntil inspects path until problem finds nothing to say about the
// report, at most five times, and fails the test with the last problem.
// /proc/locks is read a page at a time while other processes lock other
// files, so one read can miss or repeat an entry (readLockTable takes the
// median of several reads; this covers what is left).
func inspectUntil(t testing.TB, path string, problem func(*Report) string) *Report {
	t.Helper()
	var r *Report
	var why string
	for range 5 {
		r = inspect(t, path)
		if why = problem(r); why == "" {
			return r
		}
	}
	t.Fatal(why)
	return r
}

// hazardCodes returns the report's hazard codes in order.
func hazardCodes(r *Report) []string {
	codes := []string{}
	for _, h := range r.Hazards {
		codes = append(codes, h.Code)
	}
	return codes
}

// wantHazards fails the test unless the report has exactly the given
// hazards (in any order) and the matching verdict.
func wantHazards(t testing.TB, r *Report, want ...string) {
	t.Helper()
	got := hazardCodes(r)
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("hazards %q, want %q; report:\n%s", got, want, reportText(t, r))
	}
	verdict := VerdictConsistent
	if len(want) > 0 {
		verdict = VerdictHazard
	}
	if r.Verdict != verdict || r.Consistent() != (len(want) == 0) {
		t.Fatalf("verdict %q (consistent %t), want %q", r.Verdict, r.Consistent(), verdict)
	}
}

func reportText(t testing.TB, r *Report) string {
	t.Helper()
	var sb strings.Builder
	if err := r.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// writeFile writes data to path, failing the test on an error.
func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dirNames lists the names in dir.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
