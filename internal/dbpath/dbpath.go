// Package dbpath names a database file the way SQLite's os VFS does, so
// that walguard's readers (walguard check, Status) look at the files the
// connections use: absolute, with symbolic links resolved. ncruces's os VFS
// (FullPathname) resolves the links of the file itself and of every
// directory above it, and, for a file that does not exist yet, those of
// its directory; the -journal, -wal, -shm and sidecar files sit next to
// the resolved name.
package dbpath

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Resolve returns the absolute path, symbolic links resolved, that
// SQLite's os VFS uses for the database at path. A path whose file does
// not exist is resolved through its directory; a directory that does not
// exist is an error.
func Resolve(path string) (string, error) {
	dir, file := path, ""
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		dir, file = filepath.Split(path)
		if dir == "" {
			dir = "."
		}
	}
	resolved, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	return filepath.Abs(filepath.Join(resolved, file))
}
