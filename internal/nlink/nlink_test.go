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
