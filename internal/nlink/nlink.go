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

// An ID names a file: its device and inode numbers. The zero ID names
// nothing.
type ID struct{ Dev, Ino uint64 }

// Stat returns the ID of the file at path and how many directory entries
// name it, in one stat(2) and without allocating the os.FileInfo that
// os.Stat would, where the system allows; ok is false where the system
// has no such numbers (then n and known are os.Stat's nothing).
func Stat(path string) (id ID, n uint64, known, ok bool, err error) { return stat(path) }

// Fstat is Stat of the open file with descriptor fd: no path to walk,
// and the file itself, not whatever its name leads to by now. ok is false
// where the system has no such numbers; the caller then uses Stat.
func Fstat(fd uintptr) (id ID, n uint64, known, ok bool, err error) { return fstat(fd) }

// Lstat returns the ID of the file at path itself, not following a
// symbolic link; ok as for Stat.
func Lstat(path string) (id ID, ok bool, err error) { return lstat(path) }

// Of returns the ID of a file from what os.Stat or (*os.File).Stat said.
func Of(fi os.FileInfo) (ID, bool) { return of(fi) }
