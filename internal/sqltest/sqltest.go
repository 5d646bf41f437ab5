// Package sqltest holds helpers for tests that drive real SQLite
// connections (github.com/ncruces/go-sqlite3): open a connection that the
// test closes at cleanup, run statements, and read one value back.
package sqltest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ncruces/go-sqlite3"
)

// ErrNoRow is what QueryText wraps when its statement answers no row.
var ErrNoRow = errors.New("no row")

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

// QueryText runs the first statement of sql on c and returns the first
// column of its first row as text. An error from SQLite is returned as is,
// so that errors.Is and errors.As see exactly what SQLite answered; a
// statement that answers no row is an error that wraps ErrNoRow and names
// sql.
func QueryText(c *sqlite3.Conn, sql string) (string, error) {
	stmt, _, err := c.Prepare(sql)
	if err != nil {
		return "", err
	}
	defer stmt.Close()
	if !stmt.Step() {
		if err := stmt.Err(); err != nil {
			return "", err
		}
		return "", fmt.Errorf("%s: %w", sql, ErrNoRow)
	}
	return stmt.ColumnText(0), stmt.Err()
}

// Query is QueryText that fails the test on an error.
func Query(tb testing.TB, c *sqlite3.Conn, sql string) string {
	tb.Helper()
	s, err := QueryText(c, sql)
	switch {
	case errors.Is(err, ErrNoRow):
		tb.Fatal(err) // names sql already
	case err != nil:
		tb.Fatalf("%s: %v", sql, err)
	}
	return s
}
