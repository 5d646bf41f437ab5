// Command txnloop commits n single-row transactions to a new database,
// through the plain os VFS or through walguard, and nothing else: it is
// the workload bench/strace.sh counts system calls of.
//
//	txnloop -vfs walguard -mode wal -n 1000 -dir /dev/shm
//
// Run it for n and 2n transactions: the difference of the two counts,
// divided by n, is what one transaction costs in steady state, free of
// what opening and closing cost.
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/ncruces/go-sqlite3"

	_ "github.com/walguard/walguard" // registers the VFS "walguard"
	"github.com/walguard/walguard/internal/sqlrow"
)

func main() {
	vfsName := flag.String("vfs", "os", "VFS to open the database with: os or walguard")
	mode := flag.String("mode", "wal", "journal mode: wal (synchronous=NORMAL) or delete (synchronous=FULL)")
	n := flag.Int("n", 1000, "single-row transactions to commit")
	dir := flag.String("dir", os.TempDir(), "directory to create the database in")
	flag.Parse()
	if err := run(*vfsName, *mode, *n, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "txnloop:", err)
		os.Exit(1)
	}
}

func run(vfsName, mode string, n int, dir string) error {
	sync := map[string]string{"wal": "normal", "delete": "full"}[mode]
	if sync == "" {
		return fmt.Errorf("unknown mode %q: want wal or delete", mode)
	}
	tmp, err := os.MkdirTemp(dir, "txnloop-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	u := url.URL{Scheme: "file", Path: filepath.Join(tmp, "loop.db"), RawQuery: "vfs=" + url.QueryEscape(vfsName)}
	c, err := sqlite3.Open(u.String())
	if err != nil {
		return err
	}
	defer c.Close()
	for _, sql := range []string{
		"PRAGMA journal_mode=" + mode,
		"PRAGMA synchronous=" + sync,
		"CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER NOT NULL, pad BLOB NOT NULL)",
	} {
		if err := c.Exec(sql); err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
	}
	ins, _, err := c.Prepare("INSERT INTO t(n, pad) VALUES(?, zeroblob(100))")
	if err != nil {
		return err
	}
	defer ins.Close()
	for i := range n {
		if err := ins.BindInt(1, i); err != nil {
			return err
		}
		if err := ins.Exec(); err != nil {
			return fmt.Errorf("insert %d: %w", i, err)
		}
	}
	if err := ins.Close(); err != nil {
		return err
	}
	got, err := sqlrow.Text(c, "PRAGMA journal_mode")
	if err != nil {
		return err
	}
	if got != mode {
		return fmt.Errorf("journal_mode is %q, want %q", got, mode)
	}
	return c.Close()
}
