package sqltest_test

import (
	"errors"
	"fmt"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/internal/sqltest"
)

func ExampleQueryText() {
	c, err := sqlite3.Open(":memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	v, err := sqltest.QueryText(c, "SELECT 'hello'")
	fmt.Println(v, err)
	_, err = sqltest.QueryText(c, "SELECT 1 WHERE 0")
	fmt.Println(errors.Is(err, sqltest.ErrNoRow), err)
	// Output:
	// hello <nil>
	// true SELECT 1 WHERE 0: no row
}
