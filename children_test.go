package walguard_test

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/internal/testproc"
)

// Child roles: each runs in a process of its own (see testproc), talks on
// stdout in lines the parent waits for, and reads commands on stdin.
var childRoles = map[string]func(){
	"writer":  childWriter,
	"holdwal": childHoldWAL,
	"twowal":  childTwoWAL,
	"nolock":  childNoLock,
}

func childFatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

// childOpen opens dsn for a child role, with a busy timeout of 5 s; a
// failure ends the child (childFatal).
func childOpen(dsn string) *sqlite3.Conn {
	c, err := sqlite3.Open(dsn)
	if err != nil {
		childFatal("open: %v", err)
	}
	c.BusyTimeout(5 * time.Second)
	return c
}

// childWriter inserts WG_N rows tagged WG_ID into table t of WG_DB through
// walguard, printing "ack I" for every committed row. It retries SQLITE_BUSY
// and prints "refused REASON" the first time walguard refused it. With
// WG_WAIT=1 it prints "ready" after its first row and waits for a line.
func childWriter() {
	db, id := os.Getenv("WG_DB"), os.Getenv("WG_ID")
	n, _ := strconv.Atoi(os.Getenv("WG_N"))
	name, g := childVFS()
	c, err := sqlite3.Open("file:" + db + "?vfs=" + name)
	if err != nil {
		childFatal("open: %v", err)
	}
	defer c.Close()
	c.BusyTimeout(20 * time.Millisecond)
	stmt, _, err := prepareRetry(c, "INSERT INTO t(writer, seq) VALUES(?, ?)")
	if err != nil {
		childFatal("prepare: %v", err)
	}
	defer stmt.Close()
	refused := false
	noteRefusal := func() {
		if r := g.LastRefusal(db); r != nil && !refused {
			fmt.Println("refused", r.Reason)
			refused = true
		}
	}
	for i := 0; i < n; {
		stmt.BindText(1, id)
		stmt.BindInt(2, i)
		err := stmt.Exec()
		if errors.Is(err, sqlite3.BUSY) {
			noteRefusal()
			continue
		}
		if err != nil {
			childFatal("insert %d: %v", i, err)
		}
		fmt.Println("ack", i)
		i++
		if i == 1 && os.Getenv("WG_WAIT") == "1" {
			fmt.Println("ready")
			testproc.ReadLine()
		}
	}
	noteRefusal()
	fmt.Println("done")
}

func prepareRetry(c *sqlite3.Conn, sql string) (*sqlite3.Stmt, string, error) {
	for {
		stmt, tail, err := c.Prepare(sql)
		if errors.Is(err, sqlite3.BUSY) {
			if _, g := childVFS(); g.LastRefusal(os.Getenv("WG_DB")) != nil {
				fmt.Println("refused", g.LastRefusal(os.Getenv("WG_DB")).Reason)
			}
			continue
		}
		return stmt, tail, err
	}
}

// childHoldWAL opens WG_DB (a WAL database) through walguard, reads it so
// that it joins as a WAL participant, prints "ready" and holds the
// connection until its stdin closes.
func childHoldWAL() {
	db := os.Getenv("WG_DB")
	c := childOpen("file:" + db + "?vfs=walguard")
	if err := c.Exec("SELECT count(*) FROM t"); err != nil {
		childFatal("read: %v", err)
	}
	fmt.Println("ready")
	testproc.WaitForEOF()
	if err := c.Close(); err != nil {
		childFatal("close: %v", err)
	}
	fmt.Println("closed")
}

// childNoLock opens WG_DB with nolock=1 through walguard, reads it, prints
// "ready" and waits to be killed.
func childNoLock() {
	db := os.Getenv("WG_DB")
	c, err := sqlite3.Open("file:" + db + "?vfs=walguard&nolock=1")
	if err != nil {
		childFatal("open: %v", err)
	}
	if err := c.Exec("SELECT count(*) FROM t"); err != nil {
		childFatal("read: %v", err)
	}
	fmt.Println("ready")
	testproc.WaitForEOF()
	c.Close()
}

// childTwoWAL opens WG_DB (a WAL database) twice through walguard, reads
// through both connections, prints "ready"; on the line "close one" it
// closes the first and prints "one closed"; when stdin closes it closes
// the second and prints "closed".
func childTwoWAL() {
	db := os.Getenv("WG_DB")
	var conns [2]*sqlite3.Conn
	for i := range conns {
		c, err := sqlite3.Open("file:" + db + "?vfs=walguard")
		if err != nil {
			childFatal("open %d: %v", i, err)
		}
		c.BusyTimeout(5 * time.Second)
		if err := c.Exec("SELECT count(*) FROM t"); err != nil {
			childFatal("read %d: %v", i, err)
		}
		conns[i] = c
	}
	fmt.Println("ready")
	if line := testproc.ReadLine(); line != "close one" {
		childFatal("unexpected command %q", line)
	}
	if err := conns[0].Close(); err != nil {
		childFatal("close: %v", err)
	}
	fmt.Println("one closed")
	testproc.WaitForEOF()
	if err := conns[1].Close(); err != nil {
		childFatal("close: %v", err)
	}
	fmt.Println("closed")
}
