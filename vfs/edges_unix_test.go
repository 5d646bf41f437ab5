//go:build unix

package vfs_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/lockcheck"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

// A FIFO at the sidecar's path is "not a regular file", at once: neither
// an open through walguard nor walguard check waits for a writer.
func TestFIFOSidecarIsNotARegularFile(t *testing.T) {
	path := tempDB(t)
	createTable(t, path, "delete")
	side := sidecar.SidecarPath(path)
	if err := syscall.Unlink(side); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(side, 0o644); err != nil {
		t.Fatal(err)
	}
	name, _ := registerTestVFS(t, wgvfs.Options{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := sqlite3.Open(dsn(path, name))
		if !errors.Is(err, sidecar.ErrNotRegular) {
			t.Errorf("open with a FIFO sidecar: %v, want ErrNotRegular", err)
		}
		r, err := lockcheck.Inspect(path)
		if err != nil {
			t.Errorf("check: %v", err)
			return
		}
		if r.Consistent() || !strings.Contains(r.Sidecar.Error, "not a regular file") {
			t.Errorf("check: hazards %+v, sidecar error %q; want a bad sidecar that is not a regular file", r.Hazards, r.Sidecar.Error)
		}
	}()
	// A bound, not a synchronisation: without O_NONBLOCK the open blocks for ever.
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("blocked on a FIFO sidecar")
	}
}
