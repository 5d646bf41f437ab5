package faultvfs_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/faultvfs"
)

// A one-shot EIO on opening the WAL, seen by an application.
func Example() {
	dir, err := os.MkdirTemp("", "faultvfs-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	fv := faultvfs.New(vfs.Find("os"), 1)
	vfs.Register("faulty-example", fv)
	defer vfs.Unregister("faulty-example")
	uri := "file:" + filepath.ToSlash(filepath.Join(dir, "app.db")) + "?vfs=faulty-example"

	db, err := sqlite3.Open(uri)
	if err != nil {
		panic(err)
	}
	if err := db.Exec("PRAGMA journal_mode=WAL; CREATE TABLE t(x)"); err != nil {
		panic(err)
	}
	db.Close()

	fv.Add(faultvfs.Rule{Name: "wal-eio", Ops: faultvfs.OpOpen, Kinds: faultvfs.KindWAL, Count: 1})

	db, err = sqlite3.Open(uri)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	err = db.Exec("INSERT INTO t VALUES(1)")
	fmt.Println(err, errors.Is(err, sqlite3.CANTOPEN))
	err = db.Exec("INSERT INTO t VALUES(2)")
	fmt.Println(err)
	r, _ := fv.Stats().Rule("wal-eio")
	fmt.Printf("%s: matched %d, injected %d\n", r.Name, r.Matched, r.Injected)
	// Output:
	// sqlite3: unable to open database file true
	// <nil>
	// wal-eio: matched 2, injected 1
}

// Skip and Count pick which matching calls fail.
func ExampleRule() {
	fv := faultvfs.New(vfs.Find("os"), 1)
	fv.Add(faultvfs.Rule{Name: "third-and-fourth", Ops: faultvfs.OpAccess, Skip: 2, Count: 2})
	for i := 1; i <= 5; i++ {
		_, err := fv.Access("/nonexistent/app.db-journal", vfs.ACCESS_EXISTS)
		fmt.Println(i, err)
	}
	// Output:
	// 1 <nil>
	// 2 <nil>
	// 3 faultvfs: rule "third-and-fourth": injected EIO on access of /nonexistent/app.db-journal
	// 4 faultvfs: rule "third-and-fourth": injected EIO on access of /nonexistent/app.db-journal
	// 5 <nil>
}

// "EIO for the next 50 ms", measured on a fake clock.
func ExampleRule_window() {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	fv := faultvfs.New(vfs.Find("os"), 1)
	fv.SetClock(func() time.Time { return now })
	fv.Add(faultvfs.Rule{Name: "burst", Ops: faultvfs.OpAccess, Window: 50 * time.Millisecond})

	for _, step := range []time.Duration{0, 20, 29, 1, 10} {
		now = now.Add(step * time.Millisecond)
		_, err := fv.Access("/nonexistent/app.db", vfs.ACCESS_EXISTS)
		fmt.Printf("+%v failed=%v\n", now.Sub(start), err != nil)
	}
	// Output:
	// +0s failed=true
	// +20ms failed=true
	// +49ms failed=true
	// +50ms failed=false
	// +60ms failed=false
}

// Stats counts calls and injections per rule, operation and file kind.
func ExampleVFS_Stats() {
	fv := faultvfs.New(vfs.Find("os"), 1)
	fv.Add(faultvfs.Rule{Name: "wal-access", Ops: faultvfs.OpAccess, Kinds: faultvfs.KindWAL})

	fv.Access("/nonexistent/app.db", vfs.ACCESS_EXISTS)
	fv.Access("/nonexistent/app.db-wal", vfs.ACCESS_EXISTS)
	fv.Access("/nonexistent/app.db-journal", vfs.ACCESS_EXISTS)

	fmt.Println(fv.Stats())
	// Output:
	// calls 3, injected 1
	// rule "wal-access": matched 1, injected 1
	// op access: calls 3, injected 1
	// kind main-db: calls 1, injected 0
	// kind journal: calls 1, injected 0
	// kind wal: calls 1, injected 1
}

// walguard does its sidecar I/O with package os and asks the hook first;
// wire it as vfs.Options{Base: fv, SidecarHook: fv.SidecarHook()}.
func ExampleVFS_SidecarFault() {
	fv := faultvfs.New(vfs.Find("os"), 1)
	fv.Add(faultvfs.Rule{Name: "sidecar-eio", Ops: faultvfs.OpWrite, Kinds: faultvfs.KindSidecar, Count: 1})

	hook := fv.SidecarHook()
	fmt.Println(hook("write", "/data/app.db-walguard"))
	fmt.Println(fv.SidecarFault(faultvfs.OpWrite, "/data/app.db-walguard"))
	// Output:
	// faultvfs: rule "sidecar-eio": injected EIO on write of /data/app.db-walguard
	// <nil>
}
