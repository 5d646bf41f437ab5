// Package sqltest holds helpers for tests that drive real SQLite
// connections (github.com/ncruces/go-sqlite3): open a connection that the
// test closes at cleanup, run statements, and read one value back.
package sqltest

import (
	"errors"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/internal/sqlrow"
)

// Open opens a connection to dsn and closes it at tb's cleanup; it fails
// the test if the open fails.
func Open(tb testing.TB, dsn string) *sqlite3.Conn {
	tb.Helper()
	c, err := sqlite3.Open(dsn)
	if err != nil {
		tb.Fatalf("open %s: %v", dsn, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// Exec runs sql on c and fails the test if it fails.
func Exec(tb testing.TB, c *sqlite3.Conn, sql string) {
	tb.Helper()
	if err := c.Exec(sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// Query is sqlrow.Text that fails the test on an error.
func Query(tb testing.TB, c *sqlite3.Conn, sql string) string {
	tb.Helper()
	s, err := sqlrow.Text(c, sql)
	switch {
	case errors.Is(err, sqlrow.ErrNoRow):
		tb.Fatal(err) // names sql already
	case err != nil:
		tb.Fatalf("%s: %v", sql, err)
	}
	return s
}

// OpenWaiting is Open with a busy timeout of five seconds, so that the
// connections of one test wait for each other's locks.
func OpenWaiting(tb testing.TB, dsn string) *sqlite3.Conn {
	tb.Helper()
	c := Open(tb, dsn)
	if err := c.BusyTimeout(5 * time.Second); err != nil {
		tb.Fatal(err)
	}
	return c
}
