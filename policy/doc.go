// Package policy holds walguard's decisions as data and pure functions:
// which errors are transient, which are deterministic incompatibilities,
// how long to back off before retrying, and which journal-mode transitions
// and participants are allowed.
//
// Nothing in this package performs I/O or keeps global state; the vfs
// package gathers the facts (the sidecar record, live participants, the
// database header) and asks a [Policy] what to do.
package policy
