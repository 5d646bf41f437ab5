package sqlrow_test

import (
	"errors"
	"fmt"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/internal/sqlrow"
)

func ExampleText() {
	c, err := sqlite3.Open(":memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	v, err := sqlrow.Text(c, "SELECT 'hello'")
	fmt.Println(v, err)
	_, err = sqlrow.Text(c, "SELECT 1 WHERE 0")
	fmt.Println(errors.Is(err, sqlrow.ErrNoRow), err)
	// Output:
	// hello <nil>
	// true SELECT 1 WHERE 0: no row
}
