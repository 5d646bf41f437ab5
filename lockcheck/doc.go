// Package lockcheck is the read-only inspector behind "walguard check": it
// explains the locking state of a SQLite database the way lsof explains
// open files, and never changes it.
//
// [Inspect] reads the database header (journal family in bytes 18/19), the
// -wal file's header and frames, the -shm wal-index header, a -journal's
// header (and whether it is hot), the walguard sidecar's record and live
// participants (package sidecar, read with [sidecar.ReadSnapshot], which
// only tests lock bytes), and on Linux the kernel's lock table
// (/proc/locks) with each lock's byte range named as SQLite uses it. From
// these it derives hazards (hazards.go): mixed lock kinds, a foreign flip,
// a hot journal, WAL participants on another host, a bad sidecar. Each
// hazard carries advice. [Report.WriteText] prints the report for people;
// its JSON form is for scripts.
//
// The parsers of SQLite's own files (header.go, wal.go, shm.go,
// journal.go) and of /proc/locks (proclocks.go) never panic on bad input
// and are fuzzed or table-tested on real files.
package lockcheck
