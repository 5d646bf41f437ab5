// Package sqlrow reads one value back from a SQLite connection
// (github.com/ncruces/go-sqlite3): the "prepare, step, read text" that
// commands, benchmarks and tests all need.
package sqlrow

import (
	"errors"
	"fmt"

	"github.com/ncruces/go-sqlite3"
)

// ErrNoRow is what Text wraps when its statement answers no row.
var ErrNoRow = errors.New("no row")

// Text runs the first statement of sql on c and returns the first column
// of its first row as text. An error from SQLite is returned as is, so
// that errors.Is and errors.As see exactly what SQLite answered; a
// statement that answers no row is an error that wraps ErrNoRow and names
// sql.
func Text(c *sqlite3.Conn, sql string) (string, error) {
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
