//go:build linux || darwin

package vfs_test

import (
	"os"
	"testing"

	"github.com/walguard/walguard/internal/filelock"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

// A connection holds its declarations on the database's mirror bytes too,
// except a flock connection on a network filesystem, whose emulated flock
// covers the whole file (and the mirror with it).
func TestMirrorHeldExceptFlockOverNetwork(t *testing.T) {
	for _, tc := range []struct {
		name     string
		protocol policy.Protocol
		network  bool
		mirrored bool
	}{
		{"ofd, local", policy.ProtocolOFD, false, true},
		{"flock, local", policy.ProtocolFlock, false, true},
		{"ofd, network", policy.ProtocolOFD, true, true},
		{"flock, network", policy.ProtocolFlock, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := wgvfs.Options{Protocol: tc.protocol}
			if tc.network {
				opts.DetectFS = nfs
			}
			name, _ := registerTestVFS(t, opts)
			path := tempDB(t)
			c := openConn(t, dsn(path, name))
			mustExec(t, c, "CREATE TABLE t(x)")
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			held, err := filelock.Test(f, sidecar.MirrorByte(sidecar.ProtocolByte(tc.protocol)))
			if err != nil || held != tc.mirrored {
				t.Fatalf("mirror protocol byte held %v (%v), want %v", held, err, tc.mirrored)
			}
		})
	}
}
