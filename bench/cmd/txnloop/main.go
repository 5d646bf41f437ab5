// Command txnloop runs n operations of one kind on a new database, through
// the plain os VFS or through walguard, and nothing else: it is the
// workload bench/strace.sh counts system calls of.
//
//	txnloop -vfs walguard -mode wal -op txn -n 1000 -dir /dev/shm
//
// -op txn commits n single-row transactions; -op read runs n point reads
// (each a whole read transaction); -op open opens a connection, runs its
// first read and closes it, n times, while another connection stays open
// (as BenchmarkOpenClose does). Run it for n and 2n: the difference of the
// two counts, divided by n, is what one operation costs in steady state,
// free of what setting up and tearing down cost.
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
	op := flag.String("op", "txn", "operation to repeat: txn, read, open (beside a connection left open) or firstopen (with none)")
	n := flag.Int("n", 1000, "operations to run")
	dir := flag.String("dir", os.TempDir(), "directory to create the database in")
	flag.Parse()
	if err := run(*vfsName, *mode, *op, *n, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "txnloop:", err)
		os.Exit(1)
	}
}

// readRows is how many rows the read and open workloads read from.
const readRows = 1000

func run(vfsName, mode, op string, n int, dir string) error {
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
	switch op {
	case "txn":
		err = inserts(c, n)
	case "read":
		if err = fill(c); err == nil {
			err = reads(c, n)
		}
	case "open":
		if err = fill(c); err == nil {
			err = opens(u.String(), n)
		}
	case "firstopen":
		// No other connection open: each open is its process's first
		// (a program that opens one connection per request).
		if err = fill(c); err == nil {
			if err = c.Close(); err == nil {
				err = opens(u.String(), n)
			}
			if err == nil {
				// For the check below; the deferred Close above closed
				// the first connection already, which is harmless.
				c, err = sqlite3.Open(u.String())
			}
		}
	default:
		err = fmt.Errorf("unknown op %q: want txn, read, open or firstopen", op)
	}
	if err != nil {
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

// inserts commits n single-row transactions.
func inserts(c *sqlite3.Conn, n int) error {
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
	return ins.Close()
}

// fill inserts readRows rows in one transaction.
func fill(c *sqlite3.Conn) error {
	return c.Exec(fmt.Sprintf(`INSERT INTO t(n, pad)
		WITH RECURSIVE i(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM i WHERE k < %d)
		SELECT k, zeroblob(100) FROM i`, readRows))
}

// reads runs n point reads, each a whole read transaction.
func reads(c *sqlite3.Conn, n int) error {
	sel, _, err := c.Prepare("SELECT n FROM t WHERE id = ?")
	if err != nil {
		return err
	}
	defer sel.Close()
	for i := range n {
		id := i%readRows + 1
		if err := sel.BindInt(1, id); err != nil {
			return err
		}
		if !sel.Step() {
			return fmt.Errorf("read %d: no row (%v)", id, sel.Err())
		}
		if err := sel.Reset(); err != nil {
			return fmt.Errorf("read %d: %w", id, err)
		}
	}
	return sel.Close()
}

// opens opens a connection, runs its first read and closes it, n times.
func opens(uri string, n int) error {
	for i := range n {
		c, err := sqlite3.Open(uri)
		if err != nil {
			return fmt.Errorf("open %d: %w", i, err)
		}
		if err := c.Exec("SELECT n FROM t WHERE id = 1"); err != nil {
			c.Close()
			return fmt.Errorf("open %d: first read: %w", i, err)
		}
		if err := c.Close(); err != nil {
			return fmt.Errorf("open %d: close: %w", i, err)
		}
	}
	return nil
}
