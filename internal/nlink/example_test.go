package nlink_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/walguard/walguard/internal/nlink"
)

func ExampleCount() {
	dir, _ := os.MkdirTemp("", "nlink")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "a.db"), nil, 0o644)
	os.Link(filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db"))

	n, _, _ := nlink.Count(filepath.Join(dir, "a.db"))
	fmt.Println(n, "names")
	// Output: 2 names
}
