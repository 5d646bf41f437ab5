// Package sidecar reads and writes walguard's sidecar: the small file next
// to a database (app.db-walguard for app.db) that records the journal mode
// every walguard process agreed on and lists the connections open now.
//
// The sidecar holds two kinds of state. History lives in the record: the
// agreed journal family and mode, the locking protocol, a generation, and
// who set it, when, on which host and why (see Record). Live participation
// lives in kernel locks: each connection owns a participant slot by holding
// a lock on that slot's byte, and describes itself in the slot's entry (see
// Slot). A process that dies releases its locks, so there are no stale pids
// to clean up; readers test a lock without taking it.
//
// Every record and slot entry carries a magic, a version and a CRC-32C, and
// is verified on every read: a torn or garbage entry is reported with an
// error that errors.Is matches against ErrTruncated, ErrNotSidecar,
// ErrChecksum or ErrInvalid, and is never trusted. ErrVersion marks an entry
// written by a newer walguard, which must be refused rather than rebuilt;
// ErrNoRecord marks one not written yet. Decoding never panics, whatever
// the bytes.
//
// The file's layout is in layout.go, the record's in record.go and the
// slot's in slot.go.
package sidecar
