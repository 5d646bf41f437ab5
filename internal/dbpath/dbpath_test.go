package dbpath

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolve(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(root, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(real, "app.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mustLink := func(target, link string) {
		if err := os.Symlink(target, link); err != nil {
			t.Skipf("symbolic links: %v", err)
		}
	}
	mustLink(filepath.Join(real, "app.db"), filepath.Join(root, "link.db"))
	mustLink(real, filepath.Join(root, "dirlink"))
	want := filepath.Join(real, "app.db")
	for _, in := range []string{
		want,
		filepath.Join(root, "link.db"),
		filepath.Join(root, "dirlink", "app.db"),
		filepath.Join(root, "dirlink", "..", "real", "app.db"),
	} {
		if got, err := Resolve(in); err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, err := Resolve(filepath.Join(root, "dirlink", "new.db")); err != nil || got != filepath.Join(real, "new.db") {
		t.Errorf("a file not created yet: %q, %v; want it in the resolved directory", got, err)
	}
	if _, err := Resolve(filepath.Join(root, "missing", "app.db")); err == nil {
		t.Error("a missing directory resolved")
	}
}
