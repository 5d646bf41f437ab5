package sidecar

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSidecarPathLongNames(t *testing.T) {
	dir := filepath.Join("data", "dir")
	for n := 1; n <= MaxNameBytes; n++ {
		db := filepath.Join(dir, strings.Repeat("a", n))
		got := SidecarPath(db)
		base := filepath.Base(got)
		if filepath.Dir(got) != dir || len(base) > MaxNameBytes || !strings.HasSuffix(base, SidecarSuffix) {
			t.Fatalf("%d-byte name: sidecar %q (%d bytes)", n, got, len(base))
		}
		short := n+len(SidecarSuffix) > MaxNameBytes
		if short != strings.Contains(base, "~") || (!short && got != db+SidecarSuffix) {
			t.Fatalf("%d-byte name: sidecar %q; the short form is for names over %d bytes only", n, base, MaxNameBytes-len(SidecarSuffix))
		}
	}
	// Multi-byte runes are not cut in half; names sharing the kept prefix differ.
	long := strings.Repeat("é", 120)
	a, b := SidecarPath(long+"a"), SidecarPath(long+"b")
	if a == b || !utf8.ValidString(a) || !utf8.ValidString(b) {
		t.Fatalf("%q and %q", a, b)
	}
	got := SidecarPath(strings.Repeat("x", 247))
	if prefix, rest, ok := strings.Cut(got, "~"); !ok || prefix != strings.Repeat("x", 200) || len(rest) != 16+len(SidecarSuffix) {
		t.Fatalf("short form %q, want 200 bytes of the name, ~, 16 hex digits, the suffix", got)
	}
}
