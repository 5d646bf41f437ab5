// Package nlink counts the names (hard links) of a file. SQLite keeps a
// database's -journal, -wal and -shm next to the name it was opened by, so
// a database with two names can have two journals: walguard refuses
// writers there by default, and walguard check reports it.
package nlink

// Count returns how many directory entries name the file at path (its
// hard links, st_nlink), following a symbolic link as SQLite does. known
// is false where the system does not say.
func Count(path string) (n uint64, known bool, err error) { return count(path) }
