package vfs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/internal/nlink"
)

// noFd is a base file without a descriptor to stat (a VFS of another kind).
type noFd struct{ vfs.File }

// TestStatOpenedIsTheFileJustOpened: the identity a connection's
// participation is checked against is the file SQLite opened (fstat of
// the os VFS's descriptor), not whatever the name leads to a moment
// later; a base file without a descriptor is stat'ed by its name.
func TestStatOpenedIsTheFileJustOpened(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The os VFS's own file for the database, as SQLite opened it.
	c, err := sqlite3.Open("file:" + path + "?vfs=os")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ptr, err := c.FileControl("main", sqlite3.FCNTL_FILE_POINTER)
	if err != nil {
		t.Fatal(err)
	}
	file, ok := ptr.(vfs.File)
	if !ok {
		t.Fatalf("FCNTL_FILE_POINTER: %T", ptr)
	}
	if u, ok := file.(vfs.FileUnwrap); ok {
		file = u.Unwrap() // ncruces's checksum wrapper
	}
	if _, ok := file.(interface{ Fd() uintptr }); !ok {
		t.Fatalf("the os VFS's file (%T) has no descriptor: statOpened stats the name instead", file)
	}
	opened, _, _, ok, err := nlink.Stat(path)
	if err != nil || !ok {
		t.Skipf("no file IDs here: %v", err)
	}
	other := filepath.Join(dir, "other.db")
	if err := os.WriteFile(other, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	named, _, _, _, err := nlink.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// Renamed over, the open file has no name left.
	if id, links, known := statOpened(file, path); id != opened || !known || links != 0 {
		t.Errorf("statOpened: %v (%d names, known %v), want the open file %v with none", id, links, known, opened)
	}
	if id, _, _ := statOpened(noFd{file}, path); id != named {
		t.Errorf("statOpened without a descriptor: %v, want the name's file %v", id, named)
	}
}
