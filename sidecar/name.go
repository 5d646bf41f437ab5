package sidecar

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"unicode/utf8"
)

// MaxNameBytes is the longest file name walguard assumes a filesystem
// takes: NAME_MAX on Linux and macOS, and within Windows's 255 UTF-16 units
// for any name of ASCII.
const MaxNameBytes = 255

// shortNamePrefix is how many bytes of a long database name a shortened
// sidecar name keeps, cut at a rune boundary.
const shortNamePrefix = 200

// SidecarPath returns the sidecar's path for the database at dbPath: the
// database's name with SidecarSuffix appended (app.db-walguard), in the
// same directory.
//
// When that name would be longer than MaxNameBytes (a database name of 247
// bytes or more), the sidecar is named instead by the first 200 bytes of
// the database name (cut at a rune boundary), a tilde, the first 16 hex
// digits of the SHA-256 of the whole database name, and the suffix:
//
//	<first 200 bytes>~0123456789abcdef-walguard
//
// so two long names that share a prefix still get sidecars of their own,
// and every walguard (and walguard check) finds the same one.
func SidecarPath(dbPath string) string {
	dir, base := filepath.Split(dbPath)
	if len(base)+len(SidecarSuffix) <= MaxNameBytes {
		return dbPath + SidecarSuffix
	}
	sum := sha256.Sum256([]byte(base))
	prefix := base[:shortNamePrefix]
	for len(prefix) > 0 && !utf8.ValidString(prefix) {
		prefix = prefix[:len(prefix)-1]
	}
	return dir + prefix + "~" + hex.EncodeToString(sum[:8]) + SidecarSuffix
}
