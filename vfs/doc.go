// Package vfs is walguard's SQLite VFS shim for github.com/ncruces/go-sqlite3.
//
// A [VFS] wraps a base VFS (the os VFS by default) and every database file it
// opens. Connections to one database, in any number of processes, register as
// participants in a sidecar lock record (package lockcheck) and are admitted
// only while they agree on one locking protocol and one journal family:
//
//   - opening the main database joins with the locking protocol of this build
//     (or nolock, for nolock=1 connections);
//   - opening the -wal file joins the WAL family; taking RESERVED, or opening
//     the -journal, joins the rollback family;
//   - PRAGMA journal_mode is checked before SQLite acts on it;
//   - writes to -wal and -journal check, in memory, that the connection's
//     family was admitted: the last gate before a frame.
//
// A refusal reaches SQLite as SQLITE_BUSY, before the refused transaction
// writes a byte, so busy handlers and retry loops do the right thing; the
// reason is readable through PRAGMA walguard_status, [VFS.Status], and one
// log line per refusal. Transient faults met before a transaction's first
// write are retried within a budget and then reported the same way; faults
// after a write are never disguised.
//
// Importing the root package github.com/walguard/walguard registers a VFS
// named "walguard" over the os VFS with the default policy; use [Register]
// for another name, base VFS or policy.
//
// See docs/design.md for the gates, the record layout and the known limits.
package vfs
