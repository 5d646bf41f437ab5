package vfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/internal/nlink"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/policy"
)

// renameAfterOpen is the os VFS, except that right after it opens a main
// database it renames another file over that name, once: the race between
// SQLite's open and walguard's look at the file, made deterministic.
type renameAfterOpen struct {
	vfs.VFS
	other string // renamed over the database after its first open
}

func (r *renameAfterOpen) OpenFilename(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	file, flags, err := vfsutil.WrapOpenFilename(r.VFS, name, flags)
	if err == nil && flags&vfs.OPEN_MAIN_DB != 0 && r.other != "" {
		if err := os.Rename(r.other, name.String()); err != nil {
			file.Close()
			return nil, flags, err
		}
		r.other = ""
	}
	return file, flags, err
}

// TestDatabaseRenamedOverWhileOpeningIsRetryable: a database file renamed
// over between SQLite's open and walguard's fstat has no name left, and
// its -wal and -journal names belong to the new file: the open is refused
// as transient (SQLITE_BUSY, a retry opens the new file), not admitted.
func TestDatabaseRenamedOverWhileOpeningIsRetryable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	other := filepath.Join(dir, "other.db")
	for _, p := range []string{path, other} {
		c, err := sqlite3.Open("file:" + p + "?vfs=os")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Exec("PRAGMA journal_mode=wal; CREATE TABLE t(x)"); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	base := &renameAfterOpen{VFS: vfs.Find("os"), other: other}
	g := New(Options{Base: base})
	name := sqltest.Register(t, g)
	_, err := sqlite3.Open("file:" + path + "?vfs=" + name)
	if !errors.Is(err, sqlite3.BUSY) {
		t.Fatalf("open of a database renamed over while opening: %v, want SQLITE_BUSY", err)
	}
	r := g.LastRefusal(path)
	if r == nil || r.Reason != policy.ReasonTransientFault || !r.Retryable() || !strings.Contains(r.Error(), "renamed over or removed") {
		t.Fatalf("refusal %v, want a retryable one that says the file was renamed over", r)
	}
	// The retry opens the file now at the name.
	c, err := sqlite3.Open("file:" + path + "?vfs=" + name)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	defer c.Close()
	if err := c.Exec("INSERT INTO t VALUES(1)"); err != nil {
		t.Fatalf("retry: %v", err)
	}
}

// TestNamedByTakesASecondLook: a count of 0 names is taken for renamed
// over or removed only if the name no longer leads to the file, so that a
// filesystem that reports 0 for every file (one that does not count
// names) does not have every open refused.
func TestNamedByTakesASecondLook(t *testing.T) {
	opened := nlink.ID{Dev: 1, Ino: 7}
	stat := func(now nlink.ID, err error) func(string) (nlink.ID, uint64, bool, bool, error) {
		return func(string) (nlink.ID, uint64, bool, bool, error) { return now, 0, true, err == nil, err }
	}
	for _, c := range []struct {
		name string
		now  nlink.ID
		err  error
		want bool
	}{
		{"the name still leads to the file (names not counted)", opened, nil, true},
		{"another file at the name (renamed over)", nlink.ID{Dev: 1, Ino: 8}, nil, false},
		{"no file at the name (removed)", nlink.ID{}, os.ErrNotExist, false},
	} {
		if got := namedBy("app.db", opened, stat(c.now, c.err)); got != c.want {
			t.Errorf("%s: namedBy = %v, want %v", c.name, got, c.want)
		}
	}
}
