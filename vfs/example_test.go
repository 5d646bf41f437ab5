package vfs_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/policy"
	wgvfs "github.com/walguard/walguard/vfs"

	"github.com/walguard/walguard/errclass"
)

// Register a guarded VFS under a name of your own, with a policy of your own,
// and read why a connection was refused.
func ExampleRegister() {
	p := policy.Default()
	p.ForeignFlip = policy.FlipRefuse
	g := wgvfs.Register("example-strict", wgvfs.Options{Policy: &p})

	dir, _ := os.MkdirTemp("", "walguard-example")
	defer os.RemoveAll(dir)
	dir, _ = filepath.EvalSymlinks(dir)
	path := filepath.Join(dir, "app.db")

	wal, err := sqlite3.Open("file:" + path + "?vfs=example-strict")
	if err != nil {
		log.Fatal(err)
	}
	defer wal.Close()
	if err := wal.Exec("PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES(1)"); err != nil {
		log.Fatal(err)
	}

	// A second connection that tries to leave WAL while the first uses it.
	other, err := sqlite3.Open("file:" + path + "?vfs=example-strict")
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()
	err = other.Exec("PRAGMA journal_mode=delete")
	fmt.Println("classified:", errclass.Classify(err))
	fmt.Println("reason:", g.LastRefusal(path).Reason)
	fmt.Println("refusals:", g.Stats().Refusals)
	// Output:
	// classified: mismatch
	// reason: downgrade while WAL in use
	// refusals: map[downgrade while WAL in use:1]
}
