// Package nlink counts the names (hard links) of a file. SQLite keeps a
// database's -journal, -wal and -shm next to the name it was opened by, so
// a database with two names can have two journals: walguard refuses
// writers there by default, and walguard check reports it.
package nlink

import "os"

// Count returns how many directory entries name the file at path (its
// hard links, st_nlink), following a symbolic link as SQLite does. known
// is false where the system does not say.
func Count(path string) (n uint64, known bool, err error) { return count(path) }

// Stat returns the file at path as os.Stat does, and how many directory
// entries name it, in one stat(2) where the system allows. fi is nil if
// the file cannot be stat'ed.
func Stat(path string) (fi os.FileInfo, n uint64, known bool, err error) { return stat(path) }
