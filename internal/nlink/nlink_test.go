package nlink

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCount(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.db")
	if err := os.WriteFile(a, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if n, known, err := Count(a); err != nil || (known && n != 1) {
		t.Fatalf("one name: %d %v %v", n, known, err)
	}
	if err := os.Link(a, filepath.Join(dir, "b.db")); err != nil {
		t.Skipf("hard links: %v", err)
	}
	if err := os.Symlink(a, filepath.Join(dir, "c.db")); err != nil {
		t.Skipf("symbolic links: %v", err)
	}
	for _, name := range []string{"a.db", "b.db", "c.db"} {
		if n, known, err := Count(filepath.Join(dir, name)); err != nil || !known || n != 2 {
			t.Errorf("%s: %d names (known %v, %v), want 2 (a symbolic link is not a name of the file)", name, n, known, err)
		}
	}
	if _, _, err := Count(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("a missing file has a count")
	}
}

// TestFstatIsTheOpenFile: Fstat describes the file a descriptor holds,
// whatever its name leads to by now, and counts its names as Stat does.
func TestFstatIsTheOpenFile(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.db")
	if err := os.WriteFile(a, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	id, n, known, ok, err := Fstat(f.Fd())
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skip("this system has no file IDs")
	}
	if sid, sn, _, _, err := Stat(a); err != nil || sid != id || sn != n || !known || n != 1 {
		t.Fatalf("Fstat %v %d names, Stat %v %d names (%v)", id, n, sid, sn, err)
	}
	if err := os.Link(a, filepath.Join(dir, "b.db")); err != nil {
		t.Skipf("hard links: %v", err)
	}
	if _, n, _, _, err := Fstat(f.Fd()); err != nil || n != 2 {
		t.Errorf("after a hard link: %d names (%v), want 2", n, err)
	}
	// Another file renamed over the name: the descriptor still holds a.
	other := filepath.Join(dir, "other.db")
	if err := os.WriteFile(other, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, a); err != nil {
		t.Fatal(err)
	}
	now, _, _, _, err := Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _, _, err := Fstat(f.Fd()); err != nil || got != id || got == now {
		t.Errorf("renamed over: Fstat says %v (%v), want the open file %v, not the name's %v", got, err, id, now)
	}
}
