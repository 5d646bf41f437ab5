package vfs_test

import (
	"testing"

	wgvfs "github.com/walguard/walguard/vfs"
)

// Status may be called from any goroutine while connections open (-race).
func TestStatusWhileOpening(t *testing.T) {
	name, g := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			g.Status(path)
		}
	}()
	for range 10 {
		c := openConn(t, dsn(path, name))
		mustExec(t, c, "CREATE TABLE IF NOT EXISTS t(x)")
		c.Close()
	}
	<-done
}
