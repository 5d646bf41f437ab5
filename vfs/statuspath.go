package vfs

import (
	"fmt"
	"os"

	"github.com/walguard/walguard/internal/dbpath"
)

// statusPath resolves the path Status was given as SQLite would, and
// refuses a database that is not there: an empty status would read as
// "nobody uses it".
func statusPath(path string) (string, error) {
	resolved, err := dbpath.Resolve(path)
	if err != nil {
		return path, fmt.Errorf("walguard status of %s: %w", path, err)
	}
	if _, err := os.Stat(resolved); err != nil {
		return resolved, fmt.Errorf("walguard status of %s: no database there: %w", path, err)
	}
	return resolved, nil
}
