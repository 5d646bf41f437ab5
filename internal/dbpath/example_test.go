package dbpath_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/walguard/walguard/internal/dbpath"
)

func ExampleResolve() {
	dir, _ := os.MkdirTemp("", "dbpath")
	defer os.RemoveAll(dir)
	dir, _ = filepath.EvalSymlinks(dir)
	os.WriteFile(filepath.Join(dir, "app.db"), nil, 0o644)
	os.Symlink(filepath.Join(dir, "app.db"), filepath.Join(dir, "current.db"))

	resolved, _ := dbpath.Resolve(filepath.Join(dir, "current.db"))
	fmt.Println(filepath.Base(resolved))
	// Output: app.db
}
